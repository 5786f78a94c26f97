/**
 * Captures made here, by vdpd itself (`--capture`), of the state-machine scenarios — an
 * error response, an unsolicited de-associate, retransmissions under loss, a keep-alive
 * timeout — replayed with `vdpctl replay --json` as a separate process. Timings differ from
 * run to run, so the golden part is the per-VSI outcome and the kinds of findings.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { CommandOutcome } from '../../src/api/protocol.js';
import { VethLab } from '../../src/lab/netns.js';
import { VDPCTL, VdpdProc } from '../../src/lab/vdpd-proc.js';
import type { ReplayReport } from '../../src/replay/types.js';
import { prepare, sleep, vsiSpec } from './helpers.js';

let dir = '';
let lab: VethLab;
let bridge: VdpdProc;
let station: VdpdProc;
let sc: ApiClient;

const RKA = 15; // keep-alive every 328 ms
const BRIDGE = (ifname: string) => `role: bridge
interfaces:
  - name: ${ifname}
    evb: { rka: ${RKA} }
    bridge:
      policy:
        - match: { typeId: 401 }
          action: reject
          reason: 2
        - match: { typeId: 403 }
          deassocAfterMs: 1200
`;

async function cmd(mode: string, i: number, typeId: number): Promise<CommandOutcome> {
  const r = (await sc.call({ op: 'command', iface: lab.station.ifname, mode: mode as 'assoc', vsi: vsiSpec(i, { typeId }) as never, waitMs: 20_000 })) as { outcome: CommandOutcome };
  return r.outcome;
}

function replay(dirName: string): ReplayReport {
  const files = readdirSync(join(dir, dirName)).filter((f) => f.endsWith('.pcap'));
  expect(files.length).toBeGreaterThanOrEqual(1);
  const r = spawnSync(process.execPath, [VDPCTL, 'replay', '--json', join(dir, dirName, files.sort()[0]!)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ReplayReport;
}

/** per VSI: its final state and the kinds of findings naming it */
function outline(r: ReplayReport): Record<string, { state: string; findings: string[] }> {
  const out: Record<string, { state: string; findings: string[] }> = {};
  for (const v of r.vsis) out[v.vsiid] = { state: v.finalState, findings: [...new Set(r.findings.filter((f) => f.vsiid === v.vsiid).map((f) => f.kind))].sort() };
  return out;
}

beforeAll(async () => {
  dir = prepare();
  lab = new VethLab().up();
  bridge = new VdpdProc({ ns: lab.bridge.ns, dir: join(dir, 'br'), name: 'bridge', config: BRIDGE(lab.bridge.ifname), extraArgs: ['--capture', join(dir, 'pcap-br')] });
  station = new VdpdProc({ ns: lab.station.ns, dir: join(dir, 'st'), name: 'station', config: `interfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: ${RKA} }\n`, extraArgs: ['--capture', join(dir, 'pcap-st')] });
  (await bridge.start()).close();
  sc = await station.start();
  await station.waitEvb(sc);
  // the scenarios
  expect((await cmd('assoc', 1, 400)).kind).toBe('success');
  expect((await cmd('assoc', 2, 401)).kind).toBe('bridge-error');
  expect((await cmd('assoc', 3, 403)).kind).toBe('success');
  await sleep(2000); // the bridge de-associates VSI 3
  lab.setLoss('bridge', 40);
  lab.setLoss('station', 40);
  expect((await cmd('assoc', 4, 400)).kind).toBe('success'); // through the loss, with retransmissions
  await sleep(1500);
  lab.setLoss('bridge', 0);
  lab.setLoss('station', 0);
  await sleep(1000);
  // keep-alive timeout: the station dies, its keep-alives stop, the bridge's capture shows it
  await station.stop('SIGKILL');
  sc.close();
  await sleep(0.01 * 2 ** RKA * 3);
  await bridge.stop();
}, 180_000);

afterAll(async () => {
  await station?.stop();
  await bridge?.stop();
  lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('replay of captures vdpd made of the scenarios', () => {
  it('station capture: success, error response, unsolicited de-associate, retransmissions under loss', () => {
    const r = replay('pcap-st');
    const o = outline(r);
    expect(r.stations.station).toBe(lab.station.mac);
    expect(o[vsiSpec(1).vsiid]!.state).toBe('ASSOCIATED');
    expect(o[vsiSpec(2).vsiid]).toEqual({ state: 'END', findings: ['error-response'] });
    expect(o[vsiSpec(3).vsiid]!.state).toBe('END');
    expect(o[vsiSpec(3).vsiid]!.findings).toContain('unsolicited-deassoc');
    expect(o[vsiSpec(4).vsiid]!.state).toBe('ASSOCIATED');
    const kinds = new Set(r.findings.map((f) => f.kind));
    expect(kinds.has('retransmission') || kinds.has('duplicate')).toBe(true);
    const err = r.findings.find((f) => f.kind === 'error-response')!;
    expect(err.message).toMatch(/insufficient resources/i);
    expect(r.evb.operative?.rka).toBe(RKA);
  });

  it('bridge capture: the station\'s keep-alives stop (late-keepalive at the end of the capture)', () => {
    const r = replay('pcap-br');
    const o = outline(r);
    expect(o[vsiSpec(1).vsiid]!.findings).toContain('late-keepalive');
    expect(o[vsiSpec(4).vsiid]!.findings).toContain('late-keepalive');
  });
});
