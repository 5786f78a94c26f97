/**
 * vdpd: interfaces from the config, the client API, the state file and signals.
 * SIGTERM de-associates nothing by default (a daemon restart must not tear VMs off the
 * network); `deassocOnShutdown: true` de-associates every VSI first.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { listInterfaces } from './links.js';
import { fromHex, uuidToString } from '../../pdu/bytes.js';
import { reasonText } from '../../pdu/describe.js';
import { formatTransition, type MachineKind, type TransitionRecord, type TransitionSink } from '../../fsm/transitions.js';
import type { PersistedVsi, StationRecord } from '../../fsm/vdp-station-engine.js';
import type { TimerHandle, TimerService } from '../../fsm/timers.js';
import { VdpCommandError, type Outcome } from '../../fsm/vsi.js';
import { ApiError, RawJson, type ApiRequest, type CommandOutcome } from '../api/protocol.js';
import { ApiServer, type ApiHandler } from '../api/server.js';
import { VsiSpecError, vsiSpecToWire, vsiWireToSpec, type VsiSpec } from '../api/vsi-spec.js';
import { interfaceConfigFor, type VdpdConfig } from '../config.js';
import type { Logger } from '../log.js';
import { captureBaseName, PcapWriter } from '../pcap/file.js';
import { readState, StateWriter } from '../state-store.js';
import { jsonArrayInSlices } from '../json-slices.js';
import { exposedGc, MemoryTrim } from './memory.js';
import { warmUp, type WarmUpReport } from './warm-up.js';
import { GcPauses } from './gc-pauses.js';
import { libc } from '../io/libc.js';
import { reactor, reactorTimers } from '../io/reactor.js';
import { v8MemoryPressure } from '../io/v8-heap.js';
import { InterfaceRuntime } from './interface.js';
import { UnknownInterfaceError } from '../io/packet-socket.js';
import { NetlinkSocket } from '../io/netlink-socket.js';
import { ClifServer, removePidFile, writePidFile } from './lldpad-compat.js';
import { NetlinkService } from './netlink-service.js';

/** the warm-up (warm-up.ts) stops once it has taken this long, however many VSIs it has done */
const WARM_UP_BUDGET_MS = 1500;

export interface DaemonOptions {
  captureDir?: string;
}

export function toCommandOutcome(o: Outcome, rec: StationRecord): CommandOutcome {
  switch (o.kind) {
    case 'success':
      return { kind: 'success', latencyMs: o.latencyMs, vsi: vsiWireToSpec(rec.wire) };
    case 'bridge-error':
      return { kind: 'bridge-error', reason: o.reason, reasonText: reasonText(o.reason), keep: o.keep, hard: o.hard };
    case 'superseded':
      return { kind: 'pending' };
    default:
      return { kind: o.kind };
  }
}

/** VSI rows serialised per event-loop turn by list/status */
const LIST_CHUNK = 500;

export class Daemon implements ApiHandler {
  readonly timers = reactorTimers();
  readonly ifaces = new Map<string, InterfaceRuntime>();
  private api: ApiServer;
  private state: StateWriter;
  /**
   * the longest collection pauses (ping), to tell a GC from other blocks of the loop; its
   * one 'gc' observer also tells MemoryTrim when a major collection ends
   */
  private readonly gcPauses = new GcPauses();
  /** gives the heap a burst grew back to the OS once the burst is over */
  readonly memory = new MemoryTrim({
    onMajorGc: (cb) => this.gcPauses.onMajor(cb),
    gc: exposedGc(),
    reduce: v8MemoryPressure(),
    // on a libuv worker: malloc_trim walks every free chunk of the arenas (milliseconds at
    // 10,000 VSIs), which the event loop need not wait for
    releaseNative: () => new Promise<void>((done) => libc.malloc_trim.async(0, () => done())),
    // between bursts keep-alive traffic fills the old generation again (memory.ts)
    checkMs: 10_000,
  });
  private watchers = new Set<(e: unknown) => void>();
  private captures: PcapWriter[] = [];
  private stopping = false;
  netlink: NetlinkService | undefined;
  private clif: ClifServer | undefined;
  private pidFileWritten = false;
  /** what the warm-up did (undefined: off) */
  private warmUpReport: (WarmUpReport & { rssBeforeBytes: number; rssAfterBytes: number }) | undefined;
  /** event-loop delay since start (ns; includes up to one sampling period), reported by `ping` */
  private readonly loopDelay: IntervalHistogram;

  constructor(
    readonly cfg: VdpdConfig,
    readonly log: Logger,
    private readonly opts: DaemonOptions = {},
  ) {
    this.loopDelay = monitorEventLoopDelay({ resolution: cfg.eventLoopResolutionMs });
    this.api = new ApiServer(cfg.socket, this, (level, msg, extra) => log[level](extra ?? {}, msg));
    this.state = new StateWriter(cfg.stateFile, () => this.collectState(), (e) => log.error({ err: e.message }, 'state file write failed'));
  }

  /** a VSI changed: save it soon, and count it towards the next memory trim */
  private changed(): void {
    this.state.markDirty();
    this.memory.note();
  }

  private emit(event: Record<string, unknown>): void {
    for (const w of this.watchers) w(event);
  }

  private onTransition: TransitionSink = Object.assign(
    (r: TransitionRecord): void => {
      const level = transitionLevel(r.machine);
      const logged = this.log.isLevelEnabled(level);
      if (!logged && this.watchers.size === 0) return;
      const text = formatTransition(r);
      if (logged) this.log[level]({ machine: r.machine, id: r.id, from: r.from, to: r.to, reason: r.reason }, text);
      this.emit({ type: 'state-change', ...r, text });
    },
    // nobody to tell (log level above it, no `vdpctl watch`): the engines skip making the record
    { wants: (m: MachineKind): boolean => this.watchers.size > 0 || this.log.isLevelEnabled(transitionLevel(m)) },
  );

  async start(): Promise<void> {
    // first of all: the kernel auto-binds a process's first unbound netlink socket to
    // port = pid, so ours must exist before anything else could open one
    let nlSock: NetlinkSocket | undefined;
    if (this.cfg.netlink.enabled) nlSock = NetlinkSocket.bound(process.pid);
    if (this.cfg.warmUpVsis > 0) {
      const rssBefore = process.memoryUsage.rss();
      const w = warmUp(this.cfg.warmUpVsis, WARM_UP_BUDGET_MS);
      // Its garbage collected and its pages given back before the daemon serves: a full
      // collection, then the one a burst's end asks for (memory-reducing: it shrinks the young
      // generation and compacts; then malloc_trim for what V8's compiler threads freed). Kept,
      // the ~12–18 MB the warm-up grew (4,000 VSIs) were heap pages the first burst reused:
      // VSI memory that a baseline taken after the warm-up would not have shown. What stays
      // (~1–4 MB) is the compiled code, its feedback and the optimising compiler's own pages
      // of the node binary (BENCHMARKS.md, vs-lldpad).
      exposedGc()?.();
      await this.memory.collectNow();
      this.warmUpReport = { ...w, rssBeforeBytes: rssBefore, rssAfterBytes: process.memoryUsage.rss() };
      this.log.info({ ...this.warmUpReport, wallMs: Math.round(w.wallMs) }, `warm-up: ${w.associated} VSIs associated and ${w.deassociated} de-associated in memory in ${w.wallMs.toFixed(0)} ms`);
    }
    // the monitor measures the daemon at work: from here on (the warm-up is start-up, like
    // loading the code; ping reports its length as warmUpMs)
    this.loopDelay.enable();
    this.gcPauses.reset();
    this.gcPauses.start();
    const names = new Set<string>();
    const present = listInterfaces();
    for (const c of this.cfg.interfaces) {
      if (c.name !== undefined) names.add(c.name);
      else for (const n of present) if (interfaceConfigFor(this.cfg, n) === c) names.add(n);
    }
    const saved = this.loadState();
    for (const name of names) {
      const ic = interfaceConfigFor(this.cfg, name)!;
      const capDir = this.opts.captureDir ?? this.cfg.capture?.dir;
      let cap: PcapWriter | undefined;
      if (capDir) {
        cap = new PcapWriter({ path: captureBaseName(capDir, name), maxBytes: this.cfg.capture?.maxBytes ?? 64 * 1024 * 1024 });
        this.captures.push(cap);
      }
      let rt: InterfaceRuntime;
      try {
        rt = new InterfaceRuntime(
          name,
          ic,
          this.timers,
          this.log,
          {
            onTransition: this.onTransition,
            onOutcome: (iface, rec, o, solicited) => {
              if (this.watchers.size > 0) {
                const vsiid = uuidOrHex(rec);
                this.emit({ type: 'outcome', iface, vsiid, outcome: o, solicited, text: `outcome: vsi=${vsiid} ${o.kind}${o.kind === 'bridge-error' ? ` reason=${o.reason} (${reasonText(o.reason)})` : ''}` });
              }
              this.changed();
            },
            onEnded: (iface, rec, reason) => {
              this.log.warn({ iface, vsi: uuidOrHex(rec), reason }, `vsi ended without a command: ${reason}`);
              const rtEnded = this.ifaces.get(iface);
              if (rtEnded) this.netlink?.notifyEnded(rtEnded, rec);
              this.emit({ type: 'vsi-ended', iface, vsiid: uuidOrHex(rec), reason });
              this.changed();
            },
            onChange: () => this.changed(),
          },
          cap,
        );
      } catch (e) {
        if (e instanceof UnknownInterfaceError) {
          this.log.error({ iface: name }, `interface ${name} from the config does not exist: skipped`);
          continue;
        }
        throw e;
      }
      this.ifaces.set(name, rt);
      rt.start();
      const mine = saved?.[name];
      if (rt.station && Array.isArray(mine) && mine.length > 0) {
        const { restored, skipped } = rt.station.importState(mine as PersistedVsi[], fromHex);
        this.log.info({ iface: name, restored, skipped }, `restored ${restored} VSIs from the state file`);
      }
    }
    if (this.ifaces.size === 0) throw new Error('no configured interface exists in this network namespace');
    if (nlSock) {
      this.netlink = new NetlinkService({ ifaces: this.ifaces, profiles: this.cfg.netlink.profiles, log: this.log, socket: nlSock });
      this.netlink.start();
    }
    if (this.cfg.lldpadCompat.enabled) {
      if (this.cfg.lldpadCompat.clif) {
        this.clif = new ClifServer(this.log);
        this.clif.start();
      }
      writePidFile(this.cfg.lldpadCompat.pidFile);
      this.pidFileWritten = true;
      this.log.info({ pidFile: this.cfg.lldpadCompat.pidFile }, 'lldpad-compatible mode: pid file written');
    }
    await this.api.listen();
    this.log.info({ socket: this.cfg.socket, interfaces: [...this.ifaces.keys()] }, 'vdpd ready');
  }

  private loadState(): Record<string, unknown> | undefined {
    try {
      return readState(this.cfg.stateFile)?.interfaces;
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'state file unreadable: starting empty');
      return undefined;
    }
  }

  private collectState(): [string, Iterable<unknown[]>][] {
    const out: [string, Iterable<unknown[]>][] = [];
    for (const [n, rt] of this.ifaces) if (rt.station) out.push([n, rt.station.exportStateChunks()]);
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.cfg.deassocOnShutdown) await this.deassocAll();
    this.memory.stop();
    await this.state.idle();
    this.state.flush();
    for (const rt of this.ifaces.values()) rt.stop();
    for (const c of this.captures) c.close();
    this.netlink?.close();
    this.clif?.close();
    if (this.pidFileWritten) removePidFile(this.cfg.lldpadCompat.pidFile);
    await this.api.close();
    this.timers.close();
    this.loopDelay.disable();
    this.gcPauses.stop();
    this.log.info('vdpd stopped');
  }

  private async deassocAll(): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const rt of this.ifaces.values()) {
      if (!rt.station) continue;
      for (const rec of [...rt.station.records()]) {
        if (rec.state === 'END' || rec.state === 'INIT') continue;
        try {
          waits.push(rt.station.command('deassoc', rec.wire).outcome);
        } catch {
          // already going away
        }
      }
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 3000))]);
  }

  // ------------------------------------------------------------------ API

  watch(listener: (event: unknown) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private iface(name: string | undefined): InterfaceRuntime {
    const rt = name === undefined ? undefined : this.ifaces.get(name);
    if (!rt) throw new ApiError('ENODEV', `vdpd does not manage interface ${JSON.stringify(name)} (managed: ${[...this.ifaces.keys()].join(', ')})`);
    return rt;
  }

  handle(req: Exclude<ApiRequest, { op: 'watch' }>): Promise<unknown> {
    // not an async function: a command's answer is its own promise, not one more adopting it
    try {
      const r = this.answer(req);
      return r instanceof Promise ? r : Promise.resolve(r);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private answer(req: Exclude<ApiRequest, { op: 'watch' }>): unknown {
    switch (req.op) {
      case 'ping': {
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        const d = this.loopDelay;
        return {
          pong: true,
          pid: process.pid,
          netlinkPort: this.netlink?.port ?? null,
          eventLoopDelayMaxMs: d.max / 1e6,
          eventLoopDelayP99Ms: d.count > 0 ? d.percentile(99) / 1e6 : 0,
          // the smallest sample: at least the sampling period (eventLoopResolutionMs), whatever the load
          eventLoopDelayMinMs: d.count > 0 ? d.min / 1e6 : 0,
          eventLoopResolutionMs: this.cfg.eventLoopResolutionMs,
          // timer turns that came late (the process was stopped or starved) and read the sockets first
          lateTimerTurns: this.timers.lateTurns,
          // what held the loop (eventLoopDelayMaxMs): the longest collection pause of each kind,
          // and the longest turn of each kind of work (microtasks they set off not included)
          gcPauseMaxMs: this.gcPauses.maxMs,
          gcCount: this.gcPauses.count,
          longestTurnMs: { timers: this.timers.maxFireMs, input: reactor().maxDispatchMs, api: this.api.stats.maxSliceMs },
          // start-up: the warm-up's length and the RSS before it (the baseline the benchmarks measure from)
          warmUpMs: this.warmUpReport?.wallMs ?? 0,
          rssBeforeWarmUpBytes: this.warmUpReport?.rssBeforeBytes ?? null,
          rssBytes: mem.rss,
          heapUsedBytes: mem.heapUsed,
          heapTotalBytes: mem.heapTotal,
          externalBytes: mem.external,
          memoryTrims: this.memory.trims,
          lastTrimMs: this.memory.lastTrimMs,
          lastNativeTrimMs: this.memory.lastNativeMs,
          nativeTrims: this.memory.nativeReleases,
          // collections asked for whose end the daemon did not see within 5 s (released anyway)
          memoryTrimWaitTimeouts: this.memory.gcWaitTimeouts,
          // the state file: writes, failed writes, and the event loop's time serialising them
          stateWrites: this.state.writes,
          stateWriteFailures: this.state.failures,
          stateWriteCpuMs: this.state.totalWriteMs,
          cpuUserMs: cpu.user / 1000,
          cpuSystemMs: cpu.system / 1000,
        };
      }
      case 'interfaces':
        return [...this.ifaces.values()].map((rt) => rt.summary());
      case 'counters':
        if (req.iface !== undefined) return this.iface(req.iface).counters();
        return { ...Object.fromEntries([...this.ifaces].map(([n, rt]) => [n, rt.counters()])), ...(this.netlink ? { netlink: this.netlink.stats() } : {}), ...(this.clif ? { clif: this.clif.counters } : {}) };
      case 'list':
      case 'status':
        return this.listJson(req.op, req.iface, req.op === 'status' ? req.vsiid : undefined);
      case 'command':
        return this.command(req.iface, req.mode, req.vsi, req.waitMs);
    }
  }

  /** The VSI table as JSON, LIST_CHUNK rows per event-loop turn (see jsonArrayInSlices). */
  private async listJson(op: 'list' | 'status', iface: string | undefined, vsiid: string | undefined): Promise<RawJson> {
    const rts = iface !== undefined ? [this.iface(iface)] : [...this.ifaces.values()];
    const want = op === 'status' ? vsiid?.toLowerCase() : undefined;
    // each chunk of views is built when jsonArrayInSlices asks for it, a chunk per turn
    function* rows(): Generator<Record<string, unknown>[]> {
      for (const rt of rts) {
        if (rt.station) {
          for (const views of rt.station.listChunks(LIST_CHUNK)) {
            const chunk: Record<string, unknown>[] = [];
            for (const v of views) {
              if (want !== undefined && v.vsiid !== want) continue;
              chunk.push({ iface: rt.name, vsiid: v.vsiid, state: v.state, mode: v.mode, confirmed: v.confirmed, inProgress: v.inProgress, status: v.status, typeId: v.typeId, typeVersion: v.typeVersion, filters: v.filters, lastOutcome: v.lastOutcome?.kind ?? null, reason: v.reason });
            }
            yield chunk;
          }
        } else if (rt.bridge) {
          for (const views of rt.bridge.listChunks(LIST_CHUNK)) yield views.map((v) => ({ iface: rt.name, ...v }));
        }
      }
    }
    return new RawJson((await jsonArrayInSlices(rows())).text);
  }

  private command(ifname: string, mode: 'preassoc' | 'preassoc-rr' | 'assoc' | 'deassoc', spec: VsiSpec, waitMs?: number): { accepted: true; vsiid: string } | Promise<{ accepted: true; vsiid: string; outcome: CommandOutcome }> {
    const rt = this.iface(ifname);
    if (!rt.station) throw new ApiError('EOPNOTSUPP', `${ifname} runs in bridge role`);
    let wire;
    try {
      wire = vsiSpecToWire(spec);
    } catch (e) {
      if (e instanceof VsiSpecError) throw new ApiError('EINVAL', e.message);
      throw e;
    }
    const w = new CommandWait(this.timers);
    let rec: StationRecord;
    try {
      rec = rt.station.commandWith(mode, wire, API_REQUESTER, (o) => w.settle(o));
    } catch (e) {
      if (e instanceof VdpCommandError) throw new ApiError(e.code, e.message);
      throw e;
    }
    w.rec = rec;
    w.vsiid = uuidOrHex(rec);
    if (waitMs === undefined) return { accepted: true, vsiid: w.vsiid };
    return new Promise((resolve) => w.wait(resolve, waitMs));
  }
}

type CommandAnswer = { accepted: true; vsiid: string; outcome: CommandOutcome };

/**
 * One client command waiting for its outcome or for the end of its waitMs: one object and
 * an entry in the daemon's timer heap. A burst of 10,000 waiting commands lives through
 * many young-generation collections; a Node timer and a Promise.race per command, and then
 * a promise from the engine with a `.then` on it, were that much more to copy and promote.
 */
class CommandWait {
  rec: StationRecord | undefined;
  vsiid = '';
  private resolve: ((a: CommandAnswer) => void) | undefined;
  private timer: TimerHandle | undefined;
  /** an outcome that came before the wait began (a command that could not start) */
  private early: Outcome | undefined;

  constructor(private readonly timers: TimerService) {}

  wait(resolve: (a: CommandAnswer) => void, ms: number): void {
    if (this.early) return resolve(this.answer(this.early));
    this.resolve = resolve;
    this.timer = this.timers.afterCall(ms, expire, this);
  }

  settle(o: Outcome): void {
    const r = this.resolve;
    if (!r) {
      if (!this.timer) this.early = o; // not waiting yet (not after the wait ran out)
      return;
    }
    this.resolve = undefined;
    this.timers.cancel(this.timer);
    r(this.answer(o));
  }

  expired(): void {
    const r = this.resolve;
    this.resolve = undefined;
    r?.({ accepted: true, vsiid: this.vsiid, outcome: { kind: 'pending' } });
  }

  private answer(o: Outcome): CommandAnswer {
    return { accepted: true, vsiid: this.vsiid, outcome: toCommandOutcome(o, this.rec!) };
  }
}

function expire(w: CommandWait): void {
  w.expired();
}

/** who asked, for every command from the client API: one object, not one per VSI */
const API_REQUESTER = Object.freeze({ via: 'api' });

/** VSI and EVB changes are what operators follow; ECP's per-frame states are debug detail */
function transitionLevel(m: MachineKind): 'debug' | 'info' {
  return m === 'ecp-tx' || m === 'ecp-rx' ? 'debug' : 'info';
}

function uuidOrHex(rec: StationRecord): string {
  return rec.wire.vsiidFormat === 5 ? uuidToString(rec.wire.vsiid) : Buffer.from(rec.wire.vsiid).toString('hex');
}
