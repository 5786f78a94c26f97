/**
 * vdpd against lldpad, in one run, on one veth pair between two namespaces: each station
 * (vdpd through its API; lldpad through vdptool, as an orchestrator drives it) associates
 * 1, 100, 1,000 and 10,000 VSIs against each bridge (Debian lldpad in bridge role; vdpd's
 * bridge emulator, accepting everything). Every cell starts a fresh bridge and a fresh
 * station on the same veth pair, so no cell inherits another's VSIs, and measures:
 *  - wall time from the first request to the last confirmed association, associations/s;
 *  - confirmed: the station holds the bridge's success (vdpd: API outcome; lldpad: vdptool
 *    query `hints = 0`), and after 60 s for the N = 1,000 cells and vdpd ↔ vdpd 10,000;
 *  - latency p50/p99 (vdpd: the outcome's command → response latency; lldpad: vdptool's
 *    time per request: with -W (N = 1 and the one-at-a-time run) request → answer, in a
 *    burst without -W only until lldpad took the request);
 *  - lldpad's N = 1 and one-at-a-time runs use vdptool -W; its bursts (N ≥ 100) do not, as
 *    the reference figures (with -W from parallel loops it leaves more VSIs unanswered); a
 *    burst ends with its last ECP frame (counters polled), one namespace entry per 1,000;
 *  - ECP frames on the wire per VSI (nftables ingress counters on both veth ends);
 *  - CPU time and VmRSS growth per VSI of the station process (/proc);
 *  - the vdpd station's worst event-loop delay (monitorEventLoopDelay at 1 ms, through `ping`).
 * One more cell, vdpd ↔ vdpd 10,000 with daemons in service: the same fresh daemons first
 * associate and de-associate 3,000 other VSIs, rest 3 s, and then the 10,000 are measured as
 * in the fresh cell (its baseline for RSS is taken after that rest). A fresh daemon's first
 * burst also pays V8's optimising compilation of its hot code, ~0.6 s of background CPU in
 * the station (perf) on cores the bridge and the client need too, unless the daemons' own
 * start-up warm-up (warmUpVsis) ran it before; a fresh station's RSS baseline is then its
 * RSS ready to serve, after that warm-up (which gives its heap pages back first), and the
 * aim's note also gives the figure with the warm-up's residue counted (ping's
 * rssBeforeWarmUpBytes).
 * Needs root, lldpad/vdptool/lldptool and nft. Knobs for iterating (defaults = the full run):
 *   VS_LLDPAD_CELLS   comma list of `station>bridge:N` to run only those (e.g. vdpd>lldpad:1000;
 *                     the in-service cell: vdpd>vdpd:10000:in-service)
 *   VS_LLDPAD_KEEP=0  skip the 60 s "still associated" checks
 *   VS_LLDPAD_PARALLEL  concurrent vdptool loops for lldpad bursts (default 1)
 *   VS_LLDPAD_WAIT=1  lldpad bursts with vdptool -W (default: without, as the reference figures)
 *   VS_LLDPAD_ECP     the vdpd station's `ecp:` towards the lldpad bridge (default { minGapMs: 3 })
 *   VS_LLDPAD_CAPTURE a directory: the vdpd station captures there (vdpd --capture)
 *   VS_LLDPAD_WARM_UP the daemons' warmUpVsis (default: the daemon's own; 0: no warm-up)
 *   VS_LLDPAD_DUMP    a path prefix: each vdpd's output goes to PREFIX-NAME-TIME.log when it
 *                     stops (with VDPD_NODE_ARGS=--trace-gc: its collections)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiClient } from '../src/api/client.js';
import type { CommandOutcome } from '../src/api/protocol.js';
import type { VsiSpec } from '../src/api/vsi-spec.js';
import { chunks, EcpWireCounter, percentile, procSample, sleep, split, type EcpFrameCount } from '../src/lab/bench-helpers.js';
import { LldpadPeer, type VdptoolRequest } from '../src/lab/lldpad.js';
import { VethLab } from '../src/lab/netns.js';
import { VdpdProc } from '../src/lab/vdpd-proc.js';
import { labVsi } from '../src/lab/vsis.js';
import type { BenchResult } from './types.js';

type Kind = 'vdpd' | 'lldpad';
const SIZES = [1, 100, 1000, 10_000];
const KEEP_MS = 60_000;
/** a cell gives up after this long (lldpad at 10,000 may not finish) */
const CELL_TIMEOUT_MS = 120_000;
const PARALLEL = Number(process.env['VS_LLDPAD_PARALLEL'] ?? 1);
/** vdptool -W (wait for the bridge's answer) in lldpad bursts; default: no (a burst, as the reference figures) */
const WAIT = process.env['VS_LLDPAD_WAIT'] === '1';
/** the daemons' warmUpVsis (default: the daemon's own) */
const WARM_UP_VSIS = process.env['VS_LLDPAD_WARM_UP'];
/** vdpd station's ECP settings against the lldpad bridge (the integration test's pacing) */
const ECP_TOWARDS_LLDPAD = process.env['VS_LLDPAD_ECP'] ?? '{ minGapMs: 3 }';
/** concurrent vdptool query loops when counting what lldpad holds */
const QUERY_PARALLEL = 4;
/** one-at-a-time figure, measured in the N = 1 cell after it */
const SEQ_N = 100;
/**
 * The in-service cell's earlier burst: other VSIs, associated then de-associated, and a rest
 * long enough for the daemon's memory trim (2 s quiet) and V8's background compilation.
 */
const WARM_N = 3000;
const WARM_REST_MS = 3000;

interface Cell {
  station: Kind;
  bridge: Kind;
  n: number;
  keepCheck: boolean;
  /**
   * daemons in service: before the measured burst the same fresh daemons associate and
   * de-associate WARM_N other VSIs and rest WARM_REST_MS (vdpd ↔ vdpd 10,000 only)
   */
  inService?: boolean;
}

interface CellResult extends Cell {
  confirmed: number;
  wallMs: number;
  latencies: number[];
  frames: EcpFrameCount;
  cpuMs: number;
  /** vdpd ↔ vdpd: the bridge's and this driver's CPU in the same burst, ms (the three share the cores) */
  otherCpuMs?: { bridge: number; driver: number };
  /** state file writes during the burst (to the ping after it) and their serialisation time */
  stateWrites?: { n: number; cpuMs: number };
  rssGrowthKb: number;
  loopMaxMs?: number;
  loopP99Ms?: number;
  /** the vdpd station's start-up warm-up, ms (none: no warm-up) */
  warmUpMs?: number;
  /** fresh daemons: the station's VmRSS after its warm-up over its VmRSS before it */
  warmUpResidueKb?: number;
  /** the station's longest collection pause of each kind (ping), ms */
  gcPauseMaxMs?: Record<string, number>;
  /** the station's longest turn of each kind of work (ping), ms */
  longestTurnMs?: Record<string, number>;
  /** the max before the run (start-up, EVB): equal to loopMaxMs when the run added nothing worse */
  loopMaxBeforeMs?: number;
  /** the vdpd station's operative ECP ack timer (10 µs × 2^RTE), ms */
  ackTimerMs?: number;
  still?: number;
  stillBridge?: number;
  stillRssGrowthKb?: number;
  keepFrames?: EcpFrameCount;
  keepCpuMs?: number;
  seqMsPerVsi?: number;
  seqLatencies?: number[];
  notes: string[];
}

interface Ping {
  pid: number;
  eventLoopDelayMaxMs: number;
  eventLoopDelayP99Ms: number;
  rssBytes: number;
  heapUsedBytes?: number;
  heapTotalBytes?: number;
  externalBytes?: number;
  /** the longest collection pause of each kind, ms */
  gcPauseMaxMs?: Record<string, number>;
  /** the longest turn of each kind of work, ms */
  longestTurnMs?: Record<string, number>;
  /** the daemon's RSS before its start-up warm-up (null: no warm-up) */
  rssBeforeWarmUpBytes?: number | null;
  warmUpMs?: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** state file writes so far and the loop's time serialising them */
  stateWrites?: number;
  stateWriteCpuMs?: number;
}

const vsiOf = (i: number): VsiSpec => labVsi(i);
const reqOf = (v: VsiSpec, wait = true): VdptoolRequest => ({
  mode: 'assoc',
  mgrid2: String(v.managerId),
  typeId: v.typeId,
  typeVersion: v.typeVersion,
  uuid: v.vsiid,
  filters: [`${v.filters[0]!.vid}-${v.filters[0]!.mac}`],
  wait,
});
const isAlive = (s: string) => s === 'ASSOCIATED' || s === 'TXMIT_KA';

/** One station or bridge of a cell, whichever daemon it is. */
interface Side {
  kind: Kind;
  pid(): number;
  stop(): Promise<void>;
}

class VdpdSide implements Side {
  readonly kind = 'vdpd';
  constructor(
    readonly proc: VdpdProc,
    readonly c: ApiClient,
  ) {}
  pid(): number {
    return this.proc.proc?.pid ?? 0;
  }
  async ping(): Promise<Ping> {
    return (await this.c.call({ op: 'ping' })) as Ping;
  }
  async stop(): Promise<void> {
    this.c.close();
    await this.proc.stop();
    const dump = process.env['VS_LLDPAD_DUMP'];
    if (dump) writeFileSync(`${dump}-${this.proc.o.name ?? 'vdpd'}-${Date.now()}.log`, this.proc.output);
  }
}

class LldpadSide implements Side {
  readonly kind = 'lldpad';
  constructor(readonly peer: LldpadPeer) {}
  pid(): number {
    return this.peer.pid;
  }
  async stop(): Promise<void> {
    await this.peer.stop();
  }
}

class Bench {
  private lab = new VethLab();
  private dir = mkdtempSync(join(tmpdir(), 'vdpd-vsl-'));
  private wire = new EcpWireCounter(this.lab);
  private seq = 0;

  up(): void {
    this.lab.up();
    this.wire.install();
  }

  async down(): Promise<void> {
    this.wire.remove();
    this.lab.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startVdpd(role: 'station' | 'bridge', ecpCfg?: string): Promise<VdpdSide> {
    const end = role === 'station' ? this.lab.station : this.lab.bridge;
    const ecp = ecpCfg !== undefined ? `\n    ecp: ${ecpCfg}` : '';
    // the loop monitor at 1 ms: at the default 10 ms each figure includes up to 10 ms of its own period
    const cfg = `log: { level: warn }\neventLoopResolutionMs: 1\n${WARM_UP_VSIS !== undefined ? `warmUpVsis: ${WARM_UP_VSIS}\n` : ''}${role === 'bridge' ? 'role: bridge\n' : ''}interfaces:\n  - name: ${end.ifname}${ecp}\n`;
    const cap = process.env['VS_LLDPAD_CAPTURE'];
    const p = new VdpdProc({ ns: end.ns, dir: join(this.dir, `${role}-${++this.seq}`), name: role, config: cfg, ...(cap && role === 'station' ? { extraArgs: ['--capture', join(cap, `${this.seq}`)] } : {}) });
    const c = await p.start();
    return new VdpdSide(p, c);
  }

  private async startLldpad(role: 'station' | 'bridge'): Promise<LldpadSide> {
    const end = role === 'station' ? this.lab.station : this.lab.bridge;
    const peer = await LldpadPeer.start({ ns: end.ns, ifname: end.ifname, role, stateDir: join(this.dir, `lldpad-${role}-${++this.seq}`) });
    return new LldpadSide(peer);
  }

  /** fresh bridge and station, EVB negotiated on both, VDP usable */
  private async pair(cell: Cell): Promise<{ st: Side; br: Side }> {
    const br = cell.bridge === 'vdpd' ? await this.startVdpd('bridge') : await this.startLldpad('bridge');
    let st: Side;
    try {
      // lldpad's bridge parses VDP 2 ms after an ECPDU into a single buffer: vdpd paces its ECPDUs towards it
      st = cell.station === 'vdpd' ? await this.startVdpd('station', cell.bridge === 'lldpad' ? ECP_TOWARDS_LLDPAD : undefined) : await this.startLldpad('station');
    } catch (e) {
      await br.stop();
      throw e;
    }
    try {
      for (const s of [st, br]) {
        if (s instanceof VdpdSide) await s.proc.waitEvb(s.c);
        else if (s instanceof LldpadSide) await s.peer.waitEvbNegotiated();
      }
      for (const s of [st, br]) if (s instanceof LldpadSide) await s.peer.waitVdpReady();
      // lldpad runs VDP with all-zero timers until its next EVB push, ~1 s after start
      if (st.kind === 'lldpad' || br.kind === 'lldpad') await sleep(2500);
    } catch (e) {
      await st.stop();
      await br.stop();
      throw e;
    }
    return { st, br };
  }

  async run(cell: Cell): Promise<CellResult> {
    const { st, br } = await this.pair(cell);
    try {
      return st instanceof VdpdSide ? await this.runVdpd(cell, st, br) : await this.runLldpad(cell, st as LldpadSide, br);
    } finally {
      await st.stop();
      await br.stop();
    }
  }

  /** VSIs the vdpd bridge emulator holds as associated (undefined for an lldpad bridge) */
  private async bridgeHolds(br: Side): Promise<number | undefined> {
    if (!(br instanceof VdpdSide)) return undefined;
    const rows = (await br.c.call({ op: 'list' })) as { state: string; confirmed: string | null }[];
    return rows.filter((r) => r.state === 'BR_WAITCMD' && r.confirmed === 'assoc').length;
  }

  /**
   * A burst of other VSIs through the same daemons before the measured one, as a daemon in
   * service has seen: V8 has compiled the hot paths by then, which a fresh daemon does during
   * its first burst (on background threads, the cores the bridge and the client need too).
   */
  private async serveEarlierBurst(st: VdpdSide): Promise<void> {
    const iface = this.lab.station.ifname;
    const others = Array.from({ length: WARM_N }, (_, i) => vsiOf(200_001 + i));
    for (const mode of ['assoc', 'deassoc'] as const) {
      const outcomes = await Promise.all(others.map(async (v) => ((await st.c.call({ op: 'command', iface, mode, vsi: v, waitMs: CELL_TIMEOUT_MS })) as { outcome?: CommandOutcome }).outcome?.kind));
      const ok = outcomes.filter((k) => k === 'success').length;
      if (ok !== WARM_N) throw new Error(`the earlier burst (${mode}) confirmed ${ok} of ${WARM_N}`);
    }
    await sleep(WARM_REST_MS);
  }

  private async runVdpd(cell: Cell, st: VdpdSide, br: Side): Promise<CellResult> {
    const iface = this.lab.station.ifname;
    const vsis = Array.from({ length: cell.n }, (_, i) => vsiOf(i + 1));
    if (cell.inService) await this.serveEarlierBurst(st);
    const p0 = await st.ping();
    // the baseline is the daemon ready to serve: after its start-up warm-up, which gives its
    // heap pages back before it serves (what stays is compiled code, reported as the
    // warm-up's residue beside the aim), or after the earlier burst (in service)
    const rss0 = p0.rssBytes;
    const f0 = this.wire.read();
    const kinds: Record<string, number> = {};
    const latencies: number[] = [];
    let confirmed = 0;
    const b0 = br instanceof VdpdSide ? await br.ping() : undefined;
    const d0 = process.cpuUsage();
    const t0 = performance.now();
    let tLast = t0;
    await Promise.all(
      vsis.map(async (v) => {
        const r = (await st.c.call({ op: 'command', iface, mode: 'assoc', vsi: v, waitMs: CELL_TIMEOUT_MS })) as { outcome?: CommandOutcome };
        const k = r.outcome?.kind ?? 'none';
        if (k === 'success') {
          confirmed++;
          latencies.push(r.outcome?.latencyMs ?? NaN);
          tLast = performance.now();
        } else kinds[k] = (kinds[k] ?? 0) + 1;
      }),
    );
    const wallMs = tLast - t0;
    const d1 = process.cpuUsage(d0);
    await sleep(300); // the last ACKs
    const b1 = br instanceof VdpdSide ? await br.ping() : undefined;
    const p1 = await st.ping();
    const ifs = (await st.c.call({ op: 'interfaces' })) as { operative?: { rte?: number } }[];
    const rte = ifs[0]?.operative?.rte;
    const frames = EcpWireCounter.delta(f0, this.wire.read());
    const notes: string[] = [];
    if (Object.keys(kinds).length > 0) notes.push(`not confirmed: ${JSON.stringify(kinds)}`);
    if (cell.bridge === 'lldpad') notes.push(`vdpd ecp: ${ECP_TOWARDS_LLDPAD}`);
    if (p0.warmUpMs) notes.push(`station warm-up at start ${Math.round(p0.warmUpMs)} ms, RSS ${r1(p0.rssBeforeWarmUpBytes! / 2 ** 20)} → ${r1(p0.rssBytes / 2 ** 20)} MiB before the burst`);

    const res: CellResult = {
      ...cell,
      confirmed,
      wallMs,
      latencies,
      frames,
      cpuMs: p1.cpuUserMs + p1.cpuSystemMs - (p0.cpuUserMs + p0.cpuSystemMs),
      ...(b0 && b1 ? { otherCpuMs: { bridge: b1.cpuUserMs + b1.cpuSystemMs - (b0.cpuUserMs + b0.cpuSystemMs), driver: (d1.user + d1.system) / 1000 } } : {}),
      ...(p1.stateWrites !== undefined ? { stateWrites: { n: p1.stateWrites - (p0.stateWrites ?? 0), cpuMs: (p1.stateWriteCpuMs ?? 0) - (p0.stateWriteCpuMs ?? 0) } } : {}),
      rssGrowthKb: (p1.rssBytes - rss0) / 1024,
      loopMaxMs: p1.eventLoopDelayMaxMs,
      loopP99Ms: p1.eventLoopDelayP99Ms,
      loopMaxBeforeMs: p0.eventLoopDelayMaxMs,
      ...(p1.gcPauseMaxMs ? { gcPauseMaxMs: p1.gcPauseMaxMs } : {}),
      ...(p0.warmUpMs ? { warmUpMs: p0.warmUpMs } : {}),
      ...(p0.warmUpMs && typeof p0.rssBeforeWarmUpBytes === 'number' && !cell.inService ? { warmUpResidueKb: (p0.rssBytes - p0.rssBeforeWarmUpBytes) / 1024 } : {}),
      ...(p1.longestTurnMs ? { longestTurnMs: p1.longestTurnMs } : {}),
      ...(rte !== undefined ? { ackTimerMs: 0.01 * 2 ** rte } : {}),
      notes,
    };
    const holds = await this.bridgeHolds(br);
    if (holds !== undefined && holds !== confirmed) notes.push(`bridge holds ${holds}`);
    if (cell.n === 1) {
      // one at a time: the next request only after the previous answer
      const t = performance.now();
      let ok = 0;
      res.seqLatencies = [];
      for (let i = 0; i < SEQ_N; i++) {
        const t1 = performance.now();
        const r = (await st.c.call({ op: 'command', iface, mode: 'assoc', vsi: vsiOf(100_001 + i), waitMs: 20_000 })) as { outcome?: CommandOutcome };
        res.seqLatencies.push(performance.now() - t1);
        if (r.outcome?.kind === 'success') ok++;
      }
      res.seqMsPerVsi = (performance.now() - t) / SEQ_N;
      if (ok !== SEQ_N) notes.push(`one at a time: ${ok}/${SEQ_N} confirmed`);
    }
    if (cell.keepCheck) {
      const fk = this.wire.read();
      const pk = await st.ping();
      await sleep(KEEP_MS);
      // resident memory before the 10,000-row status query below, whose own transient
      // (~25 MB of rows and JSON) would otherwise be measured as the daemon's steady state
      const pm = await st.ping();
      const rows = (await st.c.call({ op: 'list', iface })) as { vsiid: string; state: string }[];
      const mine = new Set(vsis.map((v) => v.vsiid));
      res.still = rows.filter((r) => mine.has(r.vsiid) && isAlive(r.state)).length;
      const h = await this.bridgeHolds(br);
      if (h !== undefined) res.stillBridge = h;
      const p2 = await st.ping();
      res.keepFrames = EcpWireCounter.delta(fk, this.wire.read());
      res.keepCpuMs = p2.cpuUserMs + p2.cpuSystemMs - (pk.cpuUserMs + pk.cpuSystemMs);
      res.stillRssGrowthKb = (pm.rssBytes - rss0) / 1024;
      const mib = (b: number | undefined) => r1((b ?? NaN) / 2 ** 20);
      notes.push(`station 60 s later: RSS ${mib(pm.rssBytes)} MiB, V8 heap ${mib(pm.heapUsedBytes)} used of ${mib(pm.heapTotalBytes)}, external ${mib(pm.externalBytes)} MiB`);
      res.loopMaxMs = p2.eventLoopDelayMaxMs;
      res.loopP99Ms = p2.eventLoopDelayP99Ms;
      res.gcPauseMaxMs = p2.gcPauseMaxMs;
      res.longestTurnMs = p2.longestTurnMs;
    }
    return res;
  }

  /** lldpad's view of many VSIs: vdptool queries from `PARALLEL` concurrent loops */
  private async lldpadConfirmed(st: LldpadSide, uuids: string[]): Promise<{ ok: number; other: Record<string, number> }> {
    const parts = split(uuids, Math.min(QUERY_PARALLEL, Math.ceil(uuids.length / 50)));
    const maps = await Promise.all(parts.map((p) => st.peer.vdptoolQueryBatch(p, 'assoc', 300_000)));
    let ok = 0;
    const other: Record<string, number> = {};
    for (const m of maps) {
      for (const v of m.values()) {
        if (v === 0) ok++;
        else {
          const k = v === 'missing' ? 'missing' : `hints ${v}`;
          other[k] = (other[k] ?? 0) + 1;
        }
      }
    }
    return { ok, other };
  }

  private async runLldpad(cell: Cell, st: LldpadSide, br: Side): Promise<CellResult> {
    const vsis = Array.from({ length: cell.n }, (_, i) => vsiOf(i + 1));
    // a single VSI is one vdptool -W (nothing to burst); larger N are bursts unless VS_LLDPAD_WAIT=1
    const wait = WAIT || cell.n === 1;
    const reqs = vsis.map((v) => reqOf(v, wait));
    const pid = st.pid();
    const s0 = procSample(pid)!;
    const f0 = this.wire.read();
    const latencies: number[] = [];
    const notes: string[] = [];
    let seen = 0;
    let refused = 0;
    let issued = 0;
    let inNsMs = 0;
    let spawnMs = 0;
    const firstError = new Map<string, number>();
    const t0 = performance.now();
    // chunks of 1,000 so a cell that runs out of time still reports what it did
    for (const part of chunks(reqs, 1000)) {
      if (performance.now() - t0 > CELL_TIMEOUT_MS) break;
      const b = await st.peer.vdptoolBatch(part, { parallel: Math.min(PARALLEL, part.length), timeoutMs: CELL_TIMEOUT_MS + 30_000 });
      issued += part.length;
      // time inside the namespace; the rest is `ip netns exec` + bash start-up, not lldpad's
      inNsMs += b.totalMs;
      spawnMs += b.wallMs - b.totalMs;
      for (const r of b.results) {
        if (r.exitCode !== 0) {
          refused++;
          const e = (r.error ?? `exit ${r.exitCode}`).slice(0, 60);
          firstError.set(e, (firstError.get(e) ?? 0) + 1);
        } else {
          if (r.responseSeen) seen++;
          // with -W: request → answer (or vdptool's 5 s give-up); without: until lldpad took it
          latencies.push(r.ms);
        }
      }
    }
    // with -W every vdptool returns with its answer: the batches' own clocks
    let wallMs = inNsMs;
    if (!wait) {
      // without -W, vdptool returns when lldpad took the request: the burst ends with its last
      // frame (counters polled every ~20 ms from the end of the vdptool loop, so the polling
      // costs lldpad no CPU during the burst), less the namespace entries of the batches
      const watch = this.wire.watch();
      const quiet = await watch.quiet(1000, 5000);
      const w = await watch.stop();
      if (quiet) wallMs = w.lastChangeAt - t0 - spawnMs;
      else notes.push('the wire never fell quiet after the last vdptool (keep-alives): wall time to the last vdptool, answers still coming');
    }
    await sleep(300);
    const s1 = procSample(pid)!;
    const frames = EcpWireCounter.delta(f0, this.wire.read());
    const uuids = vsis.map((v) => v.vsiid);
    const tq = performance.now();
    const q = await this.lldpadConfirmed(st, uuids);
    const confirmed = q.ok;
    const queryMs = performance.now() - tq;
    if (confirmed < cell.n) notes.push(`lldpad's query right after: ${JSON.stringify(q.other)}`);
    if (issued < cell.n) notes.push(`gave up after ${Math.round(CELL_TIMEOUT_MS / 1000)} s: ${issued} of ${cell.n} requested`);
    if (refused > 0) notes.push(`vdptool refused ${refused}: ${JSON.stringify(Object.fromEntries(firstError))}`);
    if (wait) notes.push(`vdptool -W saw ${seen} answers`);
    else notes.push(`the vdptool loop took ${r1(inNsMs)} ms`);
    if (cell.n >= 1000) notes.push(`querying lldpad for the ${cell.n} took ${Math.round(queryMs)} ms`);
    const holds = await this.bridgeHolds(br);
    if (holds !== undefined) notes.push(`bridge holds ${holds}`);
    const res: CellResult = { ...cell, confirmed, wallMs, latencies, frames, cpuMs: s1.cpuMs - s0.cpuMs, rssGrowthKb: s1.rssKb - s0.rssKb, notes };
    if (cell.n === 1) {
      const seqReqs = Array.from({ length: SEQ_N }, (_, i) => reqOf(vsiOf(100_001 + i)));
      const b = await st.peer.vdptoolBatch(seqReqs, { parallel: 1 });
      res.seqMsPerVsi = b.totalMs / SEQ_N;
      res.seqLatencies = b.results.map((r) => r.ms);
      const ok = b.results.filter((r) => r.exitCode === 0 && r.responseSeen).length;
      if (ok !== SEQ_N) notes.push(`one at a time: ${ok}/${SEQ_N} answered`);
    }
    if (cell.keepCheck) {
      const fk = this.wire.read();
      const sk = procSample(pid)!;
      // the query takes a while: the minute counts from the end of the association phase
      await sleep(Math.max(0, KEEP_MS - (performance.now() - t0 - wallMs)));
      const h = await this.bridgeHolds(br);
      if (h !== undefined) res.stillBridge = h;
      const s2 = procSample(pid)!;
      res.keepFrames = EcpWireCounter.delta(fk, this.wire.read());
      res.keepCpuMs = s2.cpuMs - sk.cpuMs;
      res.stillRssGrowthKb = s2.rssKb - s0.rssKb;
      const q2 = await this.lldpadConfirmed(st, uuids);
      res.still = q2.ok;
      if (q2.ok < cell.n) notes.push(`60 s later: ${JSON.stringify(q2.other)}`);
    }
    return res;
  }
}

// ---- report -------------------------------------------------------------------------

const r1 = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? Math.round(x).toString() : x.toPrecision(3)) : 'n/a');
const label = (c: Cell) => `${c.station} station ↔ ${c.bridge} bridge, ${c.n.toLocaleString('en-US')} VSIs${c.inService ? ' (daemons in service)' : ''}`;
const rate = (r: CellResult) => (r.wallMs > 0 ? (r.confirmed * 1000) / r.wallMs : NaN);

function latencyWhat(r: CellResult): string {
  if (r.station === 'vdpd') return 'command → bridge answer';
  return r.n === 1 || WAIT ? 'vdptool -W request → answer' : 'vdptool (no -W: until lldpad took the request)';
}

function rows(r: CellResult): BenchResult[] {
  const L = label(r);
  const out: BenchResult[] = [];
  const frames = r.frames.stationToBridge + r.frames.bridgeToStation;
  out.push({
    name: `${L}: associations/s`,
    value: rate(r),
    unit: 'VSIs/s',
    note: `${r.confirmed}/${r.n} confirmed in ${r1(r.wallMs)} ms; ${latencyWhat(r)} p50 ${r1(percentile(r.latencies, 50))} / p99 ${r1(percentile(r.latencies, 99))} ms${r.notes.length ? `; ${r.notes.join('; ')}` : ''}`,
  });
  out.push({ name: `${L}: ECP frames on the wire per VSI`, value: frames / r.n, unit: 'frames', note: `station→bridge ${r.frames.stationToBridge} (${r.frames.stationReqs} REQs), bridge→station ${r.frames.bridgeToStation} (${r.frames.bridgeReqs} REQs: ${r1(r.frames.bridgeReqs / r.n)} per VSI)` });
  out.push({ name: `${L}: station CPU per VSI`, value: (r.cpuMs * 1000) / r.n, unit: 'µs', note: `${r1(r.cpuMs)} ms in all${r.station === 'lldpad' ? ' (lldpad only, not the vdptool processes; 10 ms ticks)' : ''}${r.otherCpuMs ? `; in the same burst the vdpd bridge used ${r1(r.otherCpuMs.bridge)} ms and this driver (API calls) ${r1(r.otherCpuMs.driver)} ms (the driver's until the last answer; the three processes share ${cpus().length} cores)` : ''}${r.stateWrites ? `; the station wrote its state file ${r.stateWrites.n} times (${r1(r.stateWrites.cpuMs)} ms serialising)` : ''}` });
  if (r.n >= 1000) out.push({ name: `${L}: station RSS growth per VSI`, value: (r.rssGrowthKb * 1024) / r.n, unit: 'bytes', note: `${r1(r.rssGrowthKb / 1024)} MiB right after associating${r.stillRssGrowthKb !== undefined ? `; ${r1((r.stillRssGrowthKb * 1024) / r.n)} B/VSI 60 s later (before the bench's status query)` : ''}` });
  if (r.loopMaxMs !== undefined) {
    const b = r.loopMaxBeforeMs ?? 0;
    const during = r.loopMaxMs > b ? `reached during the run` : `not exceeded during the run (the max is from start-up/EVB: ${r1(b)} ms)`;
    const ms = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${r1(v)}`).join(', ');
    const gcs = `${r.gcPauseMaxMs ? `; longest GC pauses ${ms(r.gcPauseMaxMs)} ms` : ''}${r.longestTurnMs ? `; longest turns ${ms(r.longestTurnMs)} ms` : ''}`;
    out.push({ name: `${L}: vdpd station event-loop delay max`, value: r.loopMaxMs, unit: 'ms', note: `${during}${gcs}; p99 ${r1(r.loopP99Ms ?? NaN)} ms since start; monitorEventLoopDelay at 1 ms resolution (a figure includes up to 1 ms of its period; until 2026-12-01 it ran at 10 ms); aim < 50 ms` });
  }
  if (r.seqMsPerVsi !== undefined) {
    const lat = `request → answer p50 ${r1(percentile(r.seqLatencies ?? [], 50))} / p99 ${r1(percentile(r.seqLatencies ?? [], 99))} ms`;
    out.push({ name: `${r.station} station ↔ ${r.bridge} bridge, ${SEQ_N} VSIs one at a time: per VSI`, value: r.seqMsPerVsi, unit: 'ms', note: `${r.station === 'lldpad' ? 'vdptool -W (process start included)' : 'API command with waitMs (client round trip)'}, one after another; ${lat}` });
  }
  if (r.still !== undefined) {
    const kf = r.keepFrames ? r.keepFrames.stationToBridge + r.keepFrames.bridgeToStation : NaN;
    out.push({ name: `${L}: still associated 60 s later`, value: r.still, unit: 'VSIs', note: `of ${r.confirmed} confirmed${r.stillBridge !== undefined ? `; the vdpd bridge holds ${r.stillBridge}` : ''}; keep-alives: ${kf} frames, ${r1(r.keepCpuMs ?? NaN)} ms station CPU in the 60 s` });
  }
  return out;
}

function cellsWanted(): Cell[] {
  const only = (process.env['VS_LLDPAD_CELLS'] ?? '').split(',').filter((s) => s.trim() !== '');
  const keep = process.env['VS_LLDPAD_KEEP'] !== '0';
  const out: Cell[] = [];
  for (const bridge of ['lldpad', 'vdpd'] as const) {
    for (const n of SIZES) {
      for (const station of ['vdpd', 'lldpad'] as const) {
        const id = `${station}>${bridge}:${n}`;
        if (only.length > 0 && !only.includes(id)) continue;
        out.push({ station, bridge, n, keepCheck: keep && (n === 1000 || (n === 10_000 && station === 'vdpd' && bridge === 'vdpd')) });
      }
      const warmId = `vdpd>vdpd:${n}:in-service`;
      if (bridge === 'vdpd' && n === 10_000 && (only.length === 0 || only.includes(warmId))) out.push({ station: 'vdpd', bridge: 'vdpd', n, keepCheck: keep, inService: true });
    }
  }
  return out;
}

export default async function (): Promise<BenchResult[]> {
  const b = new Bench();
  const results: CellResult[] = [];
  const failures: BenchResult[] = [];
  const t0 = performance.now();
  const load0 = loadavg()[0]!;
  b.up();
  try {
    for (const cell of cellsWanted()) {
      process.stdout.write(`  .. ${label(cell)}${cell.keepCheck ? ' (+60 s)' : ''}\n`);
      try {
        const r = await b.run(cell);
        results.push(r);
        process.stdout.write(`     ${r.confirmed}/${r.n} in ${r1(r.wallMs)} ms\n`);
      } catch (e) {
        failures.push({ name: `${label(cell)}: failed`, value: NaN, unit: '', note: (e as Error).message.slice(0, 200) });
      }
    }
  } finally {
    await b.down();
  }
  const out: BenchResult[] = [];
  for (const r of results) out.push(...rows(r));
  out.push(...failures);
  // the fresh cell of each kind unless the in-service one is asked for
  const cellOf = (st: Kind, br: Kind, n: number, inService = false) => results.find((r) => r.station === st && r.bridge === br && r.n === n && (r.inService ?? false) === inService);
  // vdpd / lldpad for the same bridge and N
  for (const bridge of ['lldpad', 'vdpd'] as const) {
    for (const n of SIZES) {
      const v = cellOf('vdpd', bridge, n);
      const l = cellOf('lldpad', bridge, n);
      if (!v || !l) continue;
      const fv = (v.frames.stationToBridge + v.frames.bridgeToStation) / n;
      const fl = (l.frames.stationToBridge + l.frames.bridgeToStation) / n;
      out.push({
        name: `vdpd/lldpad as station against the ${bridge} bridge, ${n.toLocaleString('en-US')} VSIs: rate`,
        value: rate(v) / rate(l),
        unit: '×',
        note: `frames/VSI ${r1(fv)} vs ${r1(fl)}; CPU/VSI ${r1((v.cpuMs * 1000) / n)} vs ${r1((l.cpuMs * 1000) / n)} µs; confirmed ${v.confirmed} vs ${l.confirmed}${n === 1000 ? '; aim ≥ 10× with none lost' : ''}`,
      });
    }
  }
  // the aims
  for (const bridge of ['lldpad', 'vdpd'] as const) {
    const l = cellOf('lldpad', bridge, 1000);
    for (const v of results.filter((r) => r.station === 'vdpd' && r.bridge === bridge && r.n === 1000)) {
      if (!l) continue;
      const x = rate(v) / rate(l);
      const lost = v.n - Math.min(v.confirmed, v.still ?? v.confirmed);
      // lldpad's bridge answers one VSI per ECPDU and sends one ECPDU per ack-timer expiry
      // (qbg/vdp22sm.c vdp22br_reply, qbg/ecp22.c ecp22_tx_run_sm): no station can be
      // confirmed faster than 1/ackTimer, so the 10× is out of reach against it
      const ceiling = bridge === 'lldpad' && v.ackTimerMs !== undefined ? 1000 / v.ackTimerMs : undefined;
      const cap = ceiling !== undefined ? `; lldpad's bridge answers at most one VSI per ack timer (${r1(v.ackTimerMs!)} ms): ${r1(ceiling)} VSIs/s = ${r1(ceiling / rate(l))}× lldpad's station, so 10× cannot be reached against it by any station` : '';
      out.push({ name: `aim: vdpd ≥ 10× lldpad's rate at 1,000 VSIs against the ${bridge} bridge, none lost`, value: x, unit: '×', note: `${x >= 10 && lost === 0 ? 'met' : 'NOT met'}: ${r1(rate(v))} vs ${r1(rate(l))} VSIs/s; vdpd lost ${lost}${v.still !== undefined ? ' (confirmed, and still associated 60 s later)' : ''}${cap}` });
      if (ceiling !== undefined) {
        const share = rate(v) / ceiling;
        out.push({ name: `vdpd against the lldpad bridge at 1,000 VSIs: share of that bridge's answer ceiling, none lost`, value: share * 100, unit: '%', note: `${r1(rate(v))} of ${r1(ceiling)} VSIs/s; vdpd lost ${lost}; above 100 % only when lldpad re-sends its answers (its ECP leaks retransmission timers when an ACK comes late), which shows as more than one bridge REQ per VSI (${r1(v.frames.bridgeReqs / v.n)} here)` });
      }
    }
  }
  // the same aims for fresh daemons (their first burst also pays V8's compilation of the hot
  // code) and for daemons in service (an earlier burst of other VSIs went through them)
  for (const inService of [false, true]) {
    const vv = cellOf('vdpd', 'vdpd', 10_000, inService);
    if (!vv) continue;
    const daemons = inService ? 'daemons in service' : 'fresh daemons';
    const warm = vv.warmUpMs ? `after the daemons' start-up warm-up (${Math.round(vv.warmUpMs)} ms in the station)` : 'no start-up warm-up';
    const which = inService ? `${daemons}: ${WARM_N.toLocaleString('en-US')} other VSIs associated and de-associated before` : `${daemons}, ${warm}`;
    out.push({ name: `aim: 10,000 VSIs vdpd ↔ vdpd within 1 s (${daemons})`, value: vv.wallMs, unit: 'ms', note: `${vv.wallMs <= 1000 && vv.confirmed === vv.n ? 'met' : 'NOT met'}: ${vv.confirmed} confirmed; ${which}` });
    const rss = vv.stillRssGrowthKb ?? vv.rssGrowthKb;
    const base = inService ? 'the VmRSS after the earlier burst and before the first request' : vv.warmUpMs ? 'the VmRSS of the daemon ready to serve (after its start-up warm-up)' : 'the VmRSS before the first request';
    const residue = vv.warmUpResidueKb !== undefined ? `; the warm-up itself left ${r1(vv.warmUpResidueKb / 1024)} MiB (compiled code, the compiler's pages of the node binary; its heap pages were given back): counted too, ${Math.round(((rss + vv.warmUpResidueKb) * 1024) / vv.n)} B/VSI` : '';
    out.push({ name: `aim: vdpd station RSS < 2 KiB per VSI beyond the baseline (10,000 VSIs, vdpd bridge, ${daemons})`, value: (rss * 1024) / vv.n, unit: 'bytes', note: `${(rss * 1024) / vv.n < 2048 ? 'met' : 'NOT met'}: VmRSS growth ${vv.stillRssGrowthKb !== undefined ? '60 s after associating' : 'right after associating'} over ${base}${residue}` });
  }
  const loops = results.filter((r) => r.loopMaxMs !== undefined);
  if (loops.length > 0) {
    const worst = loops.reduce((a, b) => (b.loopMaxMs! > a.loopMaxMs! ? b : a));
    out.push({ name: 'aim: vdpd station event loop never blocked > 50 ms', value: worst.loopMaxMs!, unit: 'ms', note: `${worst.loopMaxMs! <= 50 ? 'met' : 'NOT met'}: worst of ${loops.length} cells (${label(worst)}); cells above 50 ms: ${loops.filter((r) => r.loopMaxMs! > 50).map(label).join(', ') || 'none'}` });
  }
  out.push({ name: 'whole benchmark', value: (performance.now() - t0) / 1000, unit: 's', note: `one veth pair; fresh bridge and station per cell (the in-service cell: fresh too, then an earlier burst of other VSIs); lldpad: N = 1 with vdptool -W, larger N ${WAIT ? 'with' : 'without'} -W from ${PARALLEL} vdptool loop(s) in one namespace entry per 1,000; 60 s checks for N = 1,000 and vdpd ↔ vdpd 10,000 only; 1-min load average ${load0.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end on ${cpus().length} cores (other work on the machine shows here)` });
  return out;
}
