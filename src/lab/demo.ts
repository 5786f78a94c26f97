/**
 * The main job on its built-in default: two network namespaces joined by a veth pair,
 * Debian's lldpad as the adjacent EVB bridge on one side, vdpd as the station on the
 * other. Associates a few VSIs, shows what the bridge answered, keeps them alive past a
 * keep-alive, de-associates, tears everything down and prints a short summary.
 *
 *   node dist/src/lab/demo.js [--vsis N] [--rka EXP]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeFrame } from '../../pdu/frame.js';
import { summarizeFrame } from '../../pdu/describe.js';
import { ethernetOf } from '../../pdu/pcap.js';
import { readPcapFile } from '../pcap/file.js';
import type { ApiClient } from '../api/client.js';
import type { CommandOutcome } from '../api/protocol.js';
import { LldpadPeer } from './lldpad.js';
import { labVsi } from './vsis.js';
import { LabError, requireCommand, requireLabPrivileges, VethLab } from './netns.js';
import { VdpdProc } from './vdpd-proc.js';

const { values } = parseArgs({ options: { vsis: { type: 'string', default: '3' }, rka: { type: 'string', default: '17' } } });
const N = Math.max(1, Math.min(200, Number(values.vsis)));
const RKA = Math.max(10, Math.min(22, Number(values.rka)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (s: string) => process.stdout.write(`${s}\n`);

const vsi = (i: number) => labVsi(i);

async function main(): Promise<number> {
  requireLabPrivileges();
  requireCommand('lldpad', 'lldpad');
  requireCommand('lldptool', 'lldpad');
  const dir = mkdtempSync(join(tmpdir(), 'vdpd-demo-'));
  const lab = new VethLab();
  let bridge: LldpadPeer | undefined;
  let station: VdpdProc | undefined;
  let client: ApiClient | undefined;
  const t0 = Date.now();
  try {
    lab.up();
    say(`lab: namespaces ${lab.station.ns} (vdpd station, ${lab.station.ifname} ${lab.station.mac}) <== veth ==> ${lab.bridge.ns} (lldpad bridge, ${lab.bridge.ifname} ${lab.bridge.mac})`);
    bridge = await LldpadPeer.start({ ns: lab.bridge.ns, ifname: lab.bridge.ifname, role: 'bridge', stateDir: join(dir, 'lldpad-br'), evb: { rka: RKA }, logLevel: Number(process.env['VDPD_DEMO_LLDPAD_LOG'] ?? 4) });
    say(`bridge: Debian lldpad pid ${bridge.pid}, bridge role, RKA ${RKA}`);
    station = new VdpdProc({
      ns: lab.station.ns,
      dir: join(dir, 'vdpd'),
      config: `log: { level: info, format: json }\ninterfaces:\n  - name: ${lab.station.ifname}\n    evb: { rka: ${RKA} }\n    ecp: { minGapMs: 3 }\n`,
      extraArgs: ['--capture', join(dir, 'pcap')],
    });
    client = await station.start();
    await station.waitEvb(client);
    await bridge.waitEvbNegotiated();
    // lldpad creates its VDP instance after pushing the EVB values to it, so for about a
    // second its bridge runs VDP with all-zero timers (toutKeepAlive 30 µs: it de-associates
    // at once); its next LLDP exchange fixes that
    await sleep(2000);
    const ifs = (await client.call({ op: 'interfaces' })) as { operative: Record<string, number | boolean> }[];
    say(`evb: negotiated, operative ${JSON.stringify(ifs[0]!.operative)}`);

    const results: CommandOutcome[] = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        client!.call({ op: 'command', iface: lab.station.ifname, mode: 'assoc', vsi: vsi(i + 1), waitMs: 20_000 }).then((r) => (r as { outcome: CommandOutcome }).outcome),
      ),
    );
    results.forEach((o, i) => say(`assoc  ${vsi(i + 1).vsiid}: ${o.kind}${o.latencyMs !== undefined ? ` in ${o.latencyMs.toFixed(1)} ms` : ''}${o.reasonText ? ` (${o.reasonText})` : ''}`));

    const kaMs = 0.01 * 2 ** RKA;
    say(`waiting ${(kaMs * 2.2 / 1000).toFixed(1)} s for keep-alives (reinitKeepAlive ${(kaMs / 1000).toFixed(2)} s)…`);
    await sleep(kaMs * 2.2);
    const counters = (await client.call({ op: 'counters', iface: lab.station.ifname })) as { vdp: { keepAlives: number }; ecp: { txReq: number; txRetransmit: number } };
    const status = (await client.call({ op: 'status', iface: lab.station.ifname })) as { vsiid: string; state: string }[];
    say(`after keep-alives: ${status.filter((s) => s.state === 'ASSOCIATED' || s.state === 'TXMIT_KA').length}/${N} VSIs associated, ${counters.vdp.keepAlives} keep-alives sent`);

    const gone: CommandOutcome[] = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        client!.call({ op: 'command', iface: lab.station.ifname, mode: 'deassoc', vsi: vsi(i + 1), waitMs: 20_000 }).then((r) => (r as { outcome: CommandOutcome }).outcome),
      ),
    );
    say(`deassoc: ${gone.filter((o) => o.kind === 'success').length}/${N} confirmed by the bridge`);

    client.close();
    client = undefined;
    await station.stop();

    // the bridge's view: what lldpad answered, from vdpd's own capture of the session
    const answers = new Map<string, string[]>();
    let frames = 0;
    const pcapDir = join(dir, 'pcap');
    const { readdirSync } = await import('node:fs');
    for (const f of readdirSync(pcapDir)) {
      for await (const rec of readPcapFile(join(pcapDir, f))) {
        frames++;
        const eth = ethernetOf(rec);
        if (!eth) continue;
        const d = decodeFrame(eth);
        if (d.kind !== 'ecp22' || d.eth.src !== lab.bridge.mac || !d.vdp) continue;
        const line = summarizeFrame(d);
        const id = /\| \S+ type=\S+ (\S+)/.exec(line)?.[1] ?? '?';
        const what = /\| (\S+\[[^\]]*\])/.exec(line)?.[1] ?? line;
        answers.set(id, [...(answers.get(id) ?? []), what]);
      }
    }
    say(`bridge's view (lldpad's answers, from the capture of ${frames} frames):`);
    for (const [id, a] of answers) say(`  ${id}: ${a.join(' → ')}`);

    const ok = results.every((o) => o.kind === 'success') && gone.every((o) => o.kind === 'success') && counters.vdp.keepAlives >= N;
    say(`summary: ${N} VSIs associated, kept alive (${counters.vdp.keepAlives} keep-alives) and de-associated against lldpad in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${counters.ecp.txReq} ECPDUs sent, ${counters.ecp.txRetransmit} retransmitted — ${ok ? 'OK' : 'FAILED'}`);
    return ok ? 0 : 1;
  } catch (e) {
    if (station) process.stderr.write(`--- vdpd log (tail)\n${station.output.split('\n').filter((l) => l.includes('state-change') || l.includes('"level":5')).slice(-40).join('\n')}\n`);
    throw e;
  } finally {
    client?.close();
    await station?.stop();
    await bridge?.stop();
    lab.cleanup();
    if (process.env['VDPD_DEMO_KEEP']) say(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${e instanceof LabError ? e.message : (e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
