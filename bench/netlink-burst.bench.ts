/**
 * A burst of 10,000 libvirt-format RTM_SETLINK requests to vdpd (station, lldpad-compatible
 * mode) in a namespace, from a separate process in the same namespace, against vdpd's
 * bridge emulator holding back every response for 2 s (a slow bridge). Measures whether
 * every request is answered, the ack latency under the burst (which must not depend on the
 * bridge) and how long until every VSI is associated. Needs root (namespaces).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VethLab } from '../src/lab/netns.js';
import { VdpdProc } from '../src/lab/vdpd-proc.js';
import type { BenchResult } from './types.js';

const N = 10_000;
const BRIDGE_DELAY_MS = 2000;

export default async function (): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'vdpd-nlb-'));
  const lab = new VethLab().up();
  const pidFile = join(dir, 'lldpad.pid');
  const bridge = new VdpdProc({ ns: lab.bridge.ns, dir: join(dir, 'br'), name: 'bridge', config: `role: bridge\ninterfaces:\n  - name: ${lab.bridge.ifname}\n    bridge:\n      policy:\n        - match: {}\n          delayMs: ${BRIDGE_DELAY_MS}\n` });
  const station = new VdpdProc({ ns: lab.station.ns, dir: join(dir, 'st'), name: 'station', config: `log: { level: warn }\nlldpadCompat: { enabled: true, pidFile: ${pidFile} }\ninterfaces:\n  - name: ${lab.station.ifname}\n` });
  try {
    const bc = await bridge.start();
    const sc = await station.start();
    await station.waitEvb(sc);
    const script = join(import.meta.dirname, '..', 'src', 'lab', 'netlink-burst.js');
    const t0 = performance.now();
    const r = spawnSync('ip', ['netns', 'exec', lab.station.ns, process.execPath, script, '--pid-file', pidFile, '--ifname', lab.station.ifname, '--count', String(N)], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`burst client failed: ${r.stderr}`);
    const b = JSON.parse(r.stdout) as { sent: number; acked: number; errors: Record<string, number>; eagain: number; sendMs: number; totalMs: number; ackP50Ms: number; ackP99Ms: number; ackMaxMs: number };
    // then every VSI associated (the bridge answers each after its delay)
    let associated = 0;
    const end = Date.now() + 120_000;
    while (Date.now() < end) {
      const rows = (await sc.call({ op: 'list', iface: lab.station.ifname })) as { state: string }[];
      associated = rows.filter((x) => x.state === 'ASSOCIATED' || x.state === 'TXMIT_KA').length;
      if (associated >= N) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    const allMs = performance.now() - t0;
    const counters = (await sc.call({ op: 'counters' })) as { netlink: { setlink: number; replySendFailures: number; socket: { received: number } } };
    bc.close();
    sc.close();
    return [
      { name: `${N} SETLINKs: answered`, value: b.acked, unit: 'acks', note: `sent ${b.sent}; errors ${JSON.stringify(b.errors)}; EAGAIN retries ${b.eagain}` },
      { name: `${N} SETLINKs: received by vdpd`, value: counters.netlink.setlink, unit: 'requests', note: `ack send failures ${counters.netlink.replySendFailures}` },
      { name: `${N} SETLINKs: burst sent in`, value: b.sendMs, unit: 'ms' },
      { name: `${N} SETLINKs: all acks within`, value: b.totalMs, unit: 'ms' },
      { name: 'ack latency p50', value: b.ackP50Ms, unit: 'ms', note: `bridge answers after ${BRIDGE_DELAY_MS} ms` },
      { name: 'ack latency p99', value: b.ackP99Ms, unit: 'ms', note: 'libvirt gives up after 2000 ms' },
      { name: 'ack latency max', value: b.ackMaxMs, unit: 'ms' },
      { name: `${N} VSIs associated`, value: associated, unit: 'VSIs', note: `after ${Math.round(allMs)} ms from the first request` },
    ];
  } finally {
    await station.stop();
    await bridge.stop();
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}
