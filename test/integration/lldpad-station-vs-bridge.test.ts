/** Debian lldpad as the station (driven with vdptool, as orchestrators do) against vdpd's bridge emulator. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { LldpadPeer } from '../../src/lab/lldpad.js';
import { VethLab } from '../../src/lab/netns.js';
import { VdpdProc } from '../../src/lab/vdpd-proc.js';
import { prepare, sleep, until, vsiSpec } from './helpers.js';

let dir = '';
let lab: VethLab;
let station: LldpadPeer;
let bridge: VdpdProc;
let bc: ApiClient;

beforeAll(async () => {
  dir = prepare();
  lab = new VethLab().up();
  bridge = new VdpdProc({
    ns: lab.bridge.ns,
    dir: join(dir, 'br'),
    config: `role: bridge\ninterfaces:\n  - name: ${lab.bridge.ifname}\n    bridge:\n      policy:\n        - match: { typeId: 201 }\n          action: reject\n          reason: 2\n`,
  });
  bc = await bridge.start();
  station = await LldpadPeer.start({ ns: lab.station.ns, ifname: lab.station.ifname, role: 'station', stateDir: join(dir, 'lldpad') });
  await station.waitEvbNegotiated();
  await bridge.waitEvb(bc);
  await station.waitVdpReady();
  // like its bridge, lldpad's station runs VDP with zero timers until its next EVB push
  await sleep(2000);
}, 90_000);

afterAll(async () => {
  bc?.close();
  await station?.stop();
  await bridge?.stop();
  lab?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const req = (i: number, mode: 'assoc' | 'preassoc' | 'preassoc-rr' | 'deassoc', typeId = 1193046) => {
  const v = vsiSpec(i);
  return station.vdptool({ mode, mgrid2: 'vdplab', typeId, typeVersion: 1, uuid: v.vsiid, filters: [`100-${v.filters[0]!.mac}`] });
};

describe('lldpad station against the vdpd bridge emulator', () => {
  it('negotiates EVB: lldpad sees a bridge, vdpd sees a station', async () => {
    expect(station.neighbourEvb()).toContain('mode:bridge');
    const [i] = (await bc.call({ op: 'interfaces' })) as { evb: string }[];
    expect(i!.evb).toBe('EVB_NEGOTIATED');
  });

  it('associates three VSIs; lldpad records success and vdpd lists them', async () => {
    for (const i of [1, 2, 3]) expect(req(i, 'assoc').responseSeen).toBe(true);
    expect([1, 2, 3].map((i) => station.vdptoolQuery(vsiSpec(i).vsiid))).toEqual([0, 0, 0]);
    const rows = (await bc.call({ op: 'list' })) as { vsiid: string; state: string }[];
    expect(rows.filter((r) => r.state === 'BR_WAITCMD').map((r) => r.vsiid).sort()).toEqual([1, 2, 3].map((i) => vsiSpec(i).vsiid));
  });

  it('accepts lldpad’s PreAssoc → PreAssoc-RR → Assoc → DeAssoc', async () => {
    for (const m of ['preassoc', 'preassoc-rr', 'assoc'] as const) {
      expect(req(10, m).responseSeen).toBe(true);
      expect(station.vdptoolQuery(vsiSpec(10).vsiid, m)).toBe(0);
    }
    expect(req(10, 'deassoc').responseSeen).toBe(true);
    await until(async () => !((await bc.call({ op: 'list' })) as { vsiid: string }[]).some((r) => r.vsiid === vsiSpec(10).vsiid), 3000, 'VSI 10 gone from the bridge');
  });

  it('answers lldpad with a rejection it understands', () => {
    expect(req(20, 'assoc', 201).responseSeen).toBe(true);
    // lldpad removes a VSI refused without KEEP
    expect(station.vdptoolQuery(vsiSpec(20).vsiid)).toBe('missing');
  });

  it('keeps lldpad’s VSIs through its keep-alives and removes them on de-associate', async () => {
    // lldpad keeps alive every 10.5 s (RKA 20); one round is enough to show the bridge answers it
    await sleep(11_000);
    expect([1, 2, 3].map((i) => station.vdptoolQuery(vsiSpec(i).vsiid))).toEqual([0, 0, 0]);
    const c = (await bc.call({ op: 'counters' })) as Record<string, { vdp: { keepAlives: number } }>;
    expect(c[lab.bridge.ifname]!.vdp.keepAlives).toBeGreaterThanOrEqual(3);
    for (const i of [1, 2, 3]) expect(req(i, 'deassoc').responseSeen).toBe(true);
    await until(async () => ((await bc.call({ op: 'list' })) as unknown[]).length === 0, 3000, 'bridge table empty');
  });
});
