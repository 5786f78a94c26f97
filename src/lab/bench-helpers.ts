/**
 * Shared pieces for the namespace benchmarks: ECP frame counters on the veth ends (nftables,
 * independent of either daemon), CPU and resident memory of a process from /proc, and
 * percentiles.
 */
import { readFileSync } from 'node:fs';
import { ETH_P_ECP22 } from '../../pdu/types.js';
import { nsRun } from './lldpad-exec.js';
import { clockTicksPerSecond } from './lldpad.js';
import { LabError, nsExec, type VethLab } from './netns.js';

const TABLE = 'vdpbench';

export interface EcpFrameCount {
  /** ECPDUs (REQ and ACK) that arrived at the bridge end: sent by the station */
  stationToBridge: number;
  /** ECPDUs that arrived at the station end: sent by the bridge */
  bridgeToStation: number;
  /** of those, ECP REQs (ULPDUs: VDP requests, keep-alives) from the station */
  stationReqs: number;
  /** ECP REQs from the bridge (VDP responses, unsolicited de-associates) */
  bridgeReqs: number;
}

/**
 * Counts ECP frames (ethertype 0x8940) in both directions with nftables netdev ingress
 * counters on each end of the veth pair, REQs and ACKs apart (the op bits of the ECP
 * header). Counts what crossed the wire, whoever sent it.
 */
export class EcpWireCounter {
  private installed: string[] = [];

  constructor(private readonly lab: VethLab) {}

  install(): this {
    const et = `0x${ETH_P_ECP22.toString(16)}`;
    for (const end of [this.lab.station, this.lab.bridge]) {
      // ECP header: version (4 bits), op (2 bits: 0 REQ, 1 ACK), subtype (10 bits)
      const rules = `table netdev ${TABLE} {
  counter req { }
  counter ack { }
  chain ing {
    type filter hook ingress device "${end.ifname}" priority -10; policy accept;
    ether type ${et} @nh,4,2 0 counter name "req"
    ether type ${et} @nh,4,2 1 counter name "ack"
  }
}
`;
      nsExec(end.ns, 'nft', ['-f', '-'], rules);
      this.installed.push(end.ns);
    }
    return this;
  }

  private static parse(ns: string, out: string): { req: number; ack: number } {
    const req = /counter req \{\s*packets (\d+)/.exec(out);
    const ack = /counter ack \{\s*packets (\d+)/.exec(out);
    if (!req || !ack) throw new LabError(`cannot read the ECP frame counters in ${ns}: ${out.trim()}`);
    return { req: Number(req[1]), ack: Number(ack[1]) };
  }

  private static combine(atBridge: { req: number; ack: number }, atStation: { req: number; ack: number }): EcpFrameCount {
    return { stationToBridge: atBridge.req + atBridge.ack, bridgeToStation: atStation.req + atStation.ack, stationReqs: atBridge.req, bridgeReqs: atStation.req };
  }

  private countersSync(ns: string): { req: number; ack: number } {
    return EcpWireCounter.parse(ns, nsExec(ns, 'nft', ['list', 'counters', 'table', 'netdev', TABLE]));
  }

  private async countersAsync(ns: string): Promise<{ req: number; ack: number }> {
    const r = await nsRun(ns, 'nft', ['list', 'counters', 'table', 'netdev', TABLE], { timeoutMs: 5000 });
    return EcpWireCounter.parse(ns, r.stdout);
  }

  /** read() without blocking the event loop */
  async readAsync(): Promise<EcpFrameCount> {
    const [b, s] = await Promise.all([this.countersAsync(this.lab.bridge.ns), this.countersAsync(this.lab.station.ns)]);
    return EcpWireCounter.combine(b, s);
  }

  /**
   * Poll the counters every `everyMs` until stop(): when did ECP traffic last change (the
   * start of the watch if it never did)? For a daemon whose clients do not wait for the
   * answers (vdptool without -W), the time of the last frame of a burst is its end.
   */
  watch(everyMs = 20): { stop: () => Promise<{ lastChangeAt: number }>; quiet: (forMs: number, maxMs: number) => Promise<boolean> } {
    let running = true;
    let last: EcpFrameCount | undefined;
    let lastChangeAt = performance.now();
    const loop = (async () => {
      while (running) {
        const c = await this.readAsync();
        // the first reading only sets the baseline (whatever came before happened before the watch)
        if (last && (c.stationToBridge !== last.stationToBridge || c.bridgeToStation !== last.bridgeToStation)) lastChangeAt = performance.now();
        last = c;
        await sleep(everyMs);
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return { lastChangeAt };
      },
      quiet: async (forMs, maxMs) => {
        const end = performance.now() + maxMs;
        while (performance.now() < end) {
          if (performance.now() - lastChangeAt >= forMs) return true;
          await sleep(everyMs);
        }
        return false;
      },
    };
  }

  read(): EcpFrameCount {
    return EcpWireCounter.combine(this.countersSync(this.lab.bridge.ns), this.countersSync(this.lab.station.ns));
  }

  static delta(a: EcpFrameCount, b: EcpFrameCount): EcpFrameCount {
    return { stationToBridge: b.stationToBridge - a.stationToBridge, bridgeToStation: b.bridgeToStation - a.bridgeToStation, stationReqs: b.stationReqs - a.stationReqs, bridgeReqs: b.bridgeReqs - a.bridgeReqs };
  }

  /** Never throws (the namespaces may already be gone). */
  remove(): void {
    for (const ns of this.installed.splice(0)) {
      try {
        nsExec(ns, 'nft', ['delete', 'table', 'netdev', TABLE]);
      } catch {
        // gone with the namespace
      }
    }
  }
}

export interface ProcSample {
  /** user + system CPU time */
  cpuMs: number;
  rssKb: number;
}

/** CPU time and VmRSS of a process (undefined when it is gone). */
export function procSample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // fields after the parenthesised comm: utime and stime are fields 14 and 15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { cpuMs: (ticks * 1000) / clockTicksPerSecond(), rssKb };
  } catch {
    return undefined;
  }
}

/** Nearest-rank percentile of unsorted values (NaN for none). */
export function percentile(values: readonly number[], p: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const i = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
  return v[i]!;
}

/** Split items into `k` interleaved groups (for parallel batches). */
export function split<T>(items: readonly T[], k: number): T[][] {
  const n = Math.max(1, Math.min(k, items.length));
  const g: T[][] = Array.from({ length: n }, () => []);
  items.forEach((it, i) => g[i % n]!.push(it));
  return g;
}

/** Consecutive chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
