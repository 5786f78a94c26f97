/**
 * The station side of VDP on one port: every VSI's machine (stored as a state name and a
 * small context, advanced through the table compiled from the xstate machine — fsm/compiled.ts),
 * one TimerService heap for all
 * timers, and the ECP upper-layer contract — it packs as many VSI TLVs into one ECPDU as
 * fit, in request order so no VSI starves.
 *
 * Beyond lldpad: a request that ECP delivered but the bridge never answered (lldpad's bridge
 * loses ECPDUs that arrive within ~2 ms of the previous one) is re-sent with back-off until
 * respWaitDelay; outcomes are reported for every command; ended VSIs stay readable for a
 * while; state can be exported and restored across restarts.
 */
import { toHex, uuidToString } from '../pdu/bytes.js';
import { encodeVdpEntries, MAX_FILTERS, sameManagerId, tryVdpEntries, VDP_END_TLV_LEN, vdpEntries, vdpEntrySize } from '../pdu/vdp.js';
import { validateVsi } from '../pdu/validate.js';
import { PduError } from '../pdu/errors.js';
import { VDP_STATUS_RESPONSE, type FilterEntry, type VdpEntry, type VdpUlpdu, type VsiMode, type VsiTlv } from '../pdu/types.js';
import { againIfLate, type TimerHandle, type TimerService } from './timers.js';
import { wanted, type TransitionSink } from './transitions.js';
import { ByteSlab } from './byte-slab.js';
import { DueQueue } from './due-queue.js';
import { CompiledMachine } from './compiled.js';
import { EVB_DEFAULTS, evbTimerMs, respWaitDelayMs, type EcpLower, type EcpUlp, type EvbOperative, type UlpduOut } from './ulp.js';
import { copyStationContext, stationMachine, type StationContext, type StationEffect, type StationEvent, type StationState } from './vdp-station.js';
import { checkCommand, responseFiltersMatch, sameFilterList, VdpCommandError, vsiKey, type Outcome, type VsiKey, type VsiWire } from './vsi.js';

export interface StationRecord {
  key: VsiKey;
  wire: VsiWire;
  state: StationState;
  ctx: StationContext;
  respTimer: TimerHandle | undefined;
  resendTimer: TimerHandle | undefined;
  /** the generation of the VSI's keep-alive deadline in the engine's DueQueue (kaQueue) */
  dueGen: number;
  resends: number;
  /** an ECPDU carrying the current request was acknowledged by the peer's ECP */
  ecpAcked: boolean;
  queued: boolean;
  /** a command (not a keep-alive) waits for its outcome */
  pendingCmd: boolean;
  cmdAt: number;
  /** whoever awaits the pending command's outcome (undefined: nobody) */
  waiters: ((o: Outcome) => void)[] | undefined;
  lastOutcome: Outcome | undefined;
  /** opaque data of whoever asked (netlink requester, API client) */
  requester: unknown;
  endedAt: number | undefined;
  /** a command accepted but not yet run through the machine (deferCommands) */
  deferredMode: VsiMode | undefined;
  /** when its latest request left in an ECPDU, as a send epoch (see VdpStationEngine.epoch) */
  sentAt: number;
}

export interface StationCounters {
  commands: number;
  rejected: Record<string, number>;
  requestsSent: number;
  resends: number;
  /** re-sends held back because the bridge was still answering older requests */
  resendsHeld: number;
  /** respWaitDelay timers that fired late (the station did not run) and waited as long again */
  respWaitExtended: number;
  /** keep-alive requests put on the wire (first transmissions; VDP resends count in `resends`) */
  keepAlives: number;
  responses: number;
  outcomes: Record<string, number>;
  unknownVsi: number;
  unexpectedRequests: number;
  malformedUlpdu: number;
  ecpAbandoned: number;
  ulpdusSent: number;
  tlvsSent: number;
  deassocDuringResync: number;
  /** unsolicited De-Associates that crossed a request the bridge had not yet received (staleDeassoc in vdp-station.ts): ignored */
  staleDeassocIgnored: number;
  peerRestarts: number;
  /** times the adaptive packing limit was halved (see packing) */
  packingCuts: number;
}

export interface VsiStatusView {
  key: VsiKey;
  vsiid: string;
  vsiidFormat: number;
  managerId: string;
  typeId: number;
  typeVersion: number;
  state: StationState;
  mode: VsiMode;
  confirmed: VsiMode | null;
  inProgress: boolean;
  /** last response status octet, -1 before any */
  status: number;
  filters: FilterEntry[];
  lastOutcome: Outcome | undefined;
  reason: string;
}

/** What the daemon keeps across a restart. */
export interface PersistedVsi {
  managerId: string;
  typeId: number;
  typeVersion: number;
  vsiidFormat: number;
  vsiid: string;
  filterFormat: number;
  filters: FilterEntry[];
  hints: number;
  /** the mode to restore: the confirmed mode, or the requested one when a command was pending */
  mode: VsiMode;
  requester?: unknown;
}

export interface StationEngineOptions {
  id: string;
  timers: TimerService;
  onTransition?: TransitionSink;
  /** every outcome; `solicited` = a command was waiting for it */
  onOutcome?: (rec: StationRecord, outcome: Outcome, solicited: boolean) => void;
  /** a confirmed VSI ended without a pending command (bridge de-associate, keep-alive failure) */
  onEnded?: (rec: StationRecord, reason: string) => void;
  /** state worth persisting changed */
  onChange?: () => void;
  /** first re-send of an unanswered request (ms); doubles up to maxResendMs */
  resendMs?: number;
  maxResendMs?: number;
  /** how long an ended VSI stays readable */
  endedRetentionMs?: number;
  /** at most this many VSI TLVs per ECPDU (default: as many as fit) */
  maxTlvsPerEcpdu?: number;
  /** pause before re-sending every VSI to a restarted bridge */
  resyncDelayMs?: number;
  /**
   * Accept a command (validate it, create the record, mark it in progress) at once but run
   * it through the machine a moment later, in slices: a burst of requests is acknowledged
   * quickly instead of each waiting for every earlier one's full processing.
   */
  deferCommands?: boolean;
}

/** at most this many VSI TLVs in one ECPDU when the config sets no limit (a 1,500-octet ECPDU holds ~21 of the usual size) */
const MAX_PACK = 64;

/** distinct manager IDs shared between records; past this many, a record keeps its own copy */
const MANAGER_IDS_SHARED = 1024;

const STORED = new CompiledMachine<typeof stationMachine, StationContext>(stationMachine);

export class VdpStationEngine implements EcpUlp {
  private recs = new Map<VsiKey, StationRecord>();
  private queue = new Set<StationRecord>();
  private lower: EcpLower | undefined;
  private op: EvbOperative = EVB_DEFAULTS;
  private ready = false;
  private linkUp = true;
  readonly counters: StationCounters = {
    commands: 0,
    rejected: {},
    requestsSent: 0,
    resends: 0,
    resendsHeld: 0,
    respWaitExtended: 0,
    keepAlives: 0,
    responses: 0,
    outcomes: {},
    unknownVsi: 0,
    unexpectedRequests: 0,
    malformedUlpdu: 0,
    ecpAbandoned: 0,
    ulpdusSent: 0,
    tlvsSent: 0,
    deassocDuringResync: 0,
    staleDeassocIgnored: 0,
    peerRestarts: 0,
    packingCuts: 0,
  };

  private readonly maxPerEcpdu: number;
  /**
   * TLVs per ECPDU right now: starts at the configured maximum, halves when the bridge drops
   * requests that ECP delivered, grows back by one after enough clean exchanges (AIMD).
   */
  private packLimit: number;
  private cleanResponses = 0;
  private lastCut = -Infinity;
  /** the send epoch of the newest request the bridge has answered */
  private lastAnswerSentAt = -Infinity;
  /** when the last answer from the bridge arrived */
  private lastAnswerAt = -Infinity;
  /**
   * Send times as small integers: one epoch per distinct TimerService time at which
   * requests left (times only grow), so comparing epochs is comparing send times, and a
   * record holds a small integer instead of a boxed double.
   */
  private epoch = 0;
  private epochAt = -Infinity;
  /** filters of the response being processed, for adoptFilters */
  private returned: FilterEntry[] | undefined;
  private returnedFor: StationRecord | undefined;

  /** every associated VSI's next keep-alive: deadlines set in the order they fall due (one period after an answer) */
  private readonly kaQueue: DueQueue<StationRecord>;

  constructor(private readonly o: StationEngineOptions) {
    this.kaQueue = new DueQueue<StationRecord>(o.timers, (rec) => this.dispatch(rec, { type: 'KA_DUE' }));
    this.maxPerEcpdu = o.maxTlvsPerEcpdu && o.maxTlvsPerEcpdu > 0 ? o.maxTlvsPerEcpdu : MAX_PACK;
    this.packLimit = this.maxPerEcpdu;
  }

  attachLower(lower: EcpLower): void {
    this.lower = lower;
  }

  get size(): number {
    return this.recs.size;
  }

  get isReady(): boolean {
    return this.ready;
  }

  setOperative(op: EvbOperative): void {
    this.op = op;
  }

  /** EVB negotiated (true) or the peer is gone (false). On a new peer every VSI is re-sent. */
  setReady(ready: boolean): void {
    this.flushAllDeferred();
    const was = this.ready;
    this.ready = ready;
    if (ready && !was) {
      for (const r of this.recs.values()) if (r.state !== 'END' && r.state !== 'INIT') this.dispatch(r, { type: 'LINK_UP' });
      this.lower?.kick();
    }
  }

  private resyncTimer: TimerHandle | undefined;
  private resyncUntil = -Infinity;

  /**
   * The bridge restarted and forgot every VSI: pause, then re-send them all. The pause
   * (default 2 s) covers lldpad, whose VDP runs with all-zero timers until its EVB module
   * pushes the negotiated values about a second after start — a VSI associated in that
   * window is de-associated again at once. Its De-Associates are ignored for the pause and
   * as long again after it: on a slower host lldpad's push came later than the pause, and
   * it shed the re-sent VSIs 13 ms after the pause ended (each such VSI is associated again
   * by its next keep-alive, which the bridge then takes as a new association).
   */
  peerRestarted(delayMs = this.o.resyncDelayMs ?? 2000): void {
    this.flushAllDeferred();
    this.counters.peerRestarts++;
    this.ready = false;
    this.resyncUntil = this.o.timers.now() + 2 * delayMs;
    this.o.timers.cancel(this.resyncTimer);
    this.resyncTimer = this.o.timers.after(delayMs, () => {
      this.resyncTimer = undefined;
      this.setReady(true);
    });
  }

  linkDown(): void {
    this.flushAllDeferred();
    this.linkUp = false;
    for (const r of this.recs.values()) {
      this.o.timers.cancel(r.respTimer);
      this.o.timers.cancel(r.resendTimer);
      this.kaQueue.cancel(r);
      r.respTimer = r.resendTimer = undefined;
    }
  }

  /** Link back: VSIs keep their state and re-associate (lldpad left a VSI that was waiting stuck BUSY). */
  linkUpAgain(): void {
    this.flushAllDeferred();
    this.linkUp = true;
    for (const r of this.recs.values()) if (r.state !== 'END' && r.state !== 'INIT') this.dispatch(r, { type: 'LINK_UP' });
    this.lower?.kick();
  }

  // ------------------------------------------------------------------ commands

  /**
   * Start a command. Throws VdpCommandError when refused (nothing is sent); otherwise the
   * returned promise settles with the outcome. The record is visible to status() at once.
   */
  command(mode: VsiMode, wire: VsiWire, requester?: unknown): { record: StationRecord; outcome: Promise<Outcome> } {
    let settle: (o: Outcome) => void = () => undefined;
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
    return { record: this.commandWith(mode, wire, requester, settle), outcome };
  }

  /**
   * `command` with a callback for the outcome instead of a promise: the client API keeps
   * 10,000 commands waiting through a burst, and a promise with its two resolving functions
   * and their context per command was ~0.2 KB more for the young generation to copy and
   * promote. `onOutcome` may be called before this returns (a command that cannot start).
   */
  commandWith(mode: VsiMode, wire: VsiWire, requester: unknown, onOutcome: (o: Outcome) => void): StationRecord {
    this.counters.commands++;
    const key = vsiKey(wire);
    let rec = this.recs.get(key);
    const existing = rec && { mode: rec.deferredMode ?? rec.ctx.mode, busy: rec.pendingCmd, ended: rec.state === 'END', filterFormat: rec.wire.filterFormat, filters: rec.wire.filters };
    const refusal = checkCommand(existing, mode, wire) ?? this.checkWire(wire);
    if (refusal) {
      this.counters.rejected[refusal.code] = (this.counters.rejected[refusal.code] ?? 0) + 1;
      throw refusal;
    }
    if (!rec || rec.state === 'END') {
      if (rec) this.reap(rec);
      rec = this.newRecord(key, wire, mode);
    } else {
      // a repeated command keeps the bridge-assigned VIDs; hints may change (migration)
      rec.wire.hints = wire.hints;
      if (wire.org) rec.wire.org = wire.org;
    }
    if (requester !== undefined) rec.requester = requester;
    const r = rec;
    // one waiter is the rule: an array of exactly one (a push onto [] reserves 16 slots)
    if (r.waiters) r.waiters.push(onOutcome);
    else r.waiters = [onOutcome];
    r.pendingCmd = true;
    r.cmdAt = this.o.timers.now();
    if (this.o.deferCommands) {
      if (r.deferredMode !== undefined) this.runDeferred(r); // keep the order of two commands on one VSI
      r.deferredMode = mode;
      this.deferred.push(r);
      this.deferTimer ??= this.o.timers.after(0, () => this.flushDeferred(256));
    } else {
      this.dispatch(r, { type: 'CMD', mode });
    }
    this.o.onChange?.();
    return r;
  }

  private deferred: StationRecord[] = [];
  private deferredAt = 0;
  private deferTimer: TimerHandle | undefined;

  private runDeferred(r: StationRecord): void {
    const mode = r.deferredMode;
    if (mode === undefined) return;
    r.deferredMode = undefined;
    if (this.recs.get(r.key) === r) this.dispatch(r, { type: 'CMD', mode });
  }

  /** Run deferred commands: `budget` per turn (Infinity = all, before anything that needs every record current). */
  flushDeferred(budget = Infinity): void {
    this.deferTimer = undefined;
    const end = Math.min(this.deferred.length, this.deferredAt + budget);
    while (this.deferredAt < end) this.runDeferred(this.deferred[this.deferredAt++]!);
    if (this.deferredAt >= this.deferred.length) {
      this.deferred = [];
      this.deferredAt = 0;
    } else {
      this.deferTimer = this.o.timers.after(0, () => this.flushDeferred(budget));
    }
  }

  private flushAllDeferred(): void {
    if (this.deferred.length === 0) return;
    this.o.timers.cancel(this.deferTimer);
    this.flushDeferred(Infinity);
  }

  private checkWire(w: VsiWire): VdpCommandError | undefined {
    const probe: VsiTlv = { kind: 'vsi', mode: 'assoc', status: 0, typeId: w.typeId, typeVersion: w.typeVersion, vsiidFormat: w.vsiidFormat, vsiid: w.vsiid, filterFormat: w.filterFormat, filters: w.filters };
    const problems = validateVsi(probe, { groupIds: this.op.gpid || !this.ready });
    if (problems.length > 0) return new VdpCommandError('EINVAL', problems.map((p) => `${p.field}: ${p.reason}`).join('; '));
    const size = vdpEntrySize({ managerId: w.managerId, vsi: probe, org: w.org ?? [] });
    if (size > (this.lower?.maxUlpdu ?? 1493)) return new VdpCommandError('E2BIG', `the VSI needs ${size} octets, more than one ECPDU holds`);
    if (w.managerId.length !== 16 || w.vsiid.length !== 16) return new VdpCommandError('EINVAL', 'manager ID and VSIID are 16 octets');
    if (!(w.typeId >= 0 && w.typeId <= 0xffffff && w.typeVersion >= 0 && w.typeVersion <= 255)) return new VdpCommandError('EINVAL', 'type ID is 24 bits, version 8 bits');
    for (const f of w.filters) {
      if (!(f.vid >= 0 && f.vid <= 4095 && f.pcp >= 0 && f.pcp <= 7)) return new VdpCommandError('EINVAL', `filter VID ${f.vid} / PCP ${f.pcp} out of range`);
    }
    if (w.filters.length > (MAX_FILTERS[w.filterFormat] ?? 0)) return new VdpCommandError('E2BIG', `${w.filters.length} filter entries exceed one VSI TLV`);
    return undefined;
  }

  /**
   * One array per distinct manager ID for every record of that manager: most VSIs share a
   * few manager IDs, and a 16-octet Uint8Array with its ArrayBuffer and backing store costs
   * ~250 bytes, a sixth of what a VSI holds. The arrays are never written to.
   */
  private readonly managerIds = new Map<string, Uint8Array>();

  /** the records' VSIIDs, packed (ByteSlab says why) */
  private readonly vsiids = new ByteSlab();

  /** the Manager ID shared last: a burst is nearly always one manager's */
  private lastManagerId: Uint8Array | undefined;

  private sharedManagerId(b: Uint8Array): Uint8Array {
    // as the bridge engine's receive does with its lastMgr
    if (sameManagerId(b, this.lastManagerId)) return this.lastManagerId!;
    // a fresh Buffer and native hex call per command was ~5 % of a burst's API handling
    const hex = toHex(b);
    const known = this.managerIds.get(hex);
    if (known) return (this.lastManagerId = known);
    if (this.managerIds.size < MANAGER_IDS_SHARED) {
      this.managerIds.set(hex, b);
      this.lastManagerId = b;
    }
    return b;
  }

  private newRecord(key: VsiKey, wire: VsiWire, mode: VsiMode): StationRecord {
    const rec: StationRecord = {
      key,
      wire: { ...wire, managerId: this.sharedManagerId(wire.managerId), vsiid: this.vsiids.copy(wire.vsiid), filters: wire.filters.map((f) => ({ ...f })) },
      state: 'INIT',
      ctx: { mode, confirmed: null, status: -1, reason: 'created' },
      respTimer: undefined,
      resendTimer: undefined,
      dueGen: 0,
      resends: 0,
      ecpAcked: false,
      queued: false,
      pendingCmd: false,
      cmdAt: 0,
      waiters: undefined,
      lastOutcome: undefined,
      requester: undefined,
      endedAt: undefined,
      deferredMode: undefined,
      sentAt: 0,
    };
    this.recs.set(key, rec);
    return rec;
  }

  // ------------------------------------------------------------------ machine driving

  private dispatch(rec: StationRecord, event: StationEvent): void {
    const next = STORED.step(rec.state, rec.ctx, event);
    const from = rec.state;
    rec.state = next.value as StationState;
    // Copied into the record's own context object rather than replacing it: a context lives
    // as long as the state it belongs to (a keep-alive period), so each replaced one was
    // promoted garbage; nothing else holds a record's context (each record has its own).
    if (next.context !== rec.ctx) copyStationContext(rec.ctx, next.context);
    if (from !== rec.state) {
      const sink = this.o.onTransition;
      if (wanted(sink, 'vdp-station')) sink({ t: this.o.timers.now(), machine: 'vdp-station', id: this.vsiLabel(rec), from, to: rec.state, reason: rec.ctx.reason });
    }
    for (const a of next.actions) this.effect(rec, a as StationEffect);
    if (rec.state === 'END') this.ended(rec);
  }

  private vsiLabel(rec: StationRecord): string {
    return rec.wire.vsiidFormat === 5 ? uuidToString(rec.wire.vsiid) : `${rec.wire.vsiidFormat}:${toHex(rec.wire.vsiid)}`;
  }

  private effect(rec: StationRecord, e: StationEffect): void {
    const t = this.o.timers;
    switch (e) {
      case 'sendRequest':
        rec.resends = 0;
        rec.ecpAcked = false;
        this.enqueue(rec);
        this.armRespWait(rec, true);
        return;
      case 'resend':
        // A bridge that answers a packed burst in order, slowly (lldpad: one answer per
        // ECPDU), has answered nothing sent at or after ours but keeps answering older ones:
        // a copy would only be answered twice (and lldpad's bridge then re-sends answers, a
        // storm). Wait for it while it makes progress.
        if (rec.ecpAcked && this.lastAnswerSentAt <= rec.sentAt && t.now() - this.lastAnswerAt < this.resendBaseMs()) {
          this.counters.resendsHeld++;
          this.armResend(rec);
          return;
        }
        // ECP delivered the request but the bridge never answered it while it answered
        // requests sent after it: it dropped ours, not keeping up with packed ECPDUs
        // (lldpad's single VDP buffer) — pack fewer
        if (rec.ecpAcked && this.lastAnswerSentAt > rec.sentAt) this.congested();
        rec.resends++;
        this.counters.resends++;
        this.enqueue(rec);
        this.armRespWait(rec, false);
        return;
      case 'stopRespTimers':
        t.cancel(rec.respTimer);
        t.cancel(rec.resendTimer);
        rec.respTimer = rec.resendTimer = undefined;
        this.queue.delete(rec);
        rec.queued = false;
        return;
      case 'startKeepAlive':
        if (this.linkUp) this.kaQueue.schedule(rec, evbTimerMs(this.op.rka));
        else this.kaQueue.cancel(rec);
        return;
      case 'stopKeepAlive':
        this.kaQueue.cancel(rec);
        return;
      case 'adoptFilters':
        // the decoded entries are this engine's own (nothing else holds the decoded response).
        // An unchanged list (every keep-alive's answer) keeps the record's entries and is no
        // change to save: 10,000 VSIs would otherwise rewrite the state file several times a second.
        if (this.returnedFor === rec && this.returned && !sameFilterList(rec.wire.filters, this.returned)) {
          rec.wire.filters = this.returned;
          this.o.onChange?.();
        }
        return;
      case 'outcomeSuccess': {
        const code = rec.ctx.status & 0x0f;
        if (code !== 0) return this.outcome(rec, { kind: 'bridge-error', mode: rec.ctx.mode, reason: code, keep: (rec.ctx.status & 0x20) !== 0, hard: (rec.ctx.status & 0x10) !== 0, status: rec.ctx.status });
        // the record's list is replaced, never changed in place, so the outcome can share it
        const mode = rec.ctx.mode === 'deassoc' ? 'deassoc' : (rec.ctx.confirmed ?? rec.ctx.mode);
        const last = rec.lastOutcome;
        // A keep-alive's answer that confirms what the last success said (same mode, same
        // list) is that outcome again: it keeps the command's latency (the time since the
        // command means nothing for a keep-alive), and 10,000 VSIs do not each leave a
        // promoted outcome object behind every keep-alive period.
        if (!rec.pendingCmd && last !== undefined && last.kind === 'success' && last.mode === mode && last.filters === rec.wire.filters) return this.outcome(rec, last);
        return this.outcome(rec, { kind: 'success', mode, filters: rec.wire.filters, latencyMs: t.now() - rec.cmdAt });
      }
      case 'outcomeError': {
        const s = rec.ctx.status;
        return this.outcome(rec, { kind: 'bridge-error', mode: rec.ctx.mode, reason: s & 0x0f, keep: (s & 0x20) !== 0, hard: (s & 0x10) !== 0, status: s });
      }
      case 'outcomeTimeout':
        return this.outcome(rec, rec.ecpAcked ? { kind: 'timeout', mode: rec.ctx.mode } : { kind: 'no-bridge', mode: rec.ctx.mode });
      case 'outcomeDeassocByBridge':
        return this.outcome(rec, { kind: 'deassoc-by-bridge', mode: rec.ctx.mode });
      case 'outcomeSuperseded':
        return this.outcome(rec, { kind: 'superseded', mode: rec.ctx.mode });
      case 'notifyEnded':
        this.o.onEnded?.(rec, rec.ctx.reason);
        this.outcome(rec, rec.ctx.reason === 'resp-wait-delay-expired' ? (rec.ecpAcked ? { kind: 'timeout', mode: rec.ctx.mode } : { kind: 'no-bridge', mode: rec.ctx.mode }) : { kind: 'deassoc-by-bridge', mode: rec.ctx.mode }, false);
        return;
    }
  }

  private outcome(rec: StationRecord, o: Outcome, solicited = rec.pendingCmd): void {
    rec.lastOutcome = o;
    this.counters.outcomes[o.kind] = (this.counters.outcomes[o.kind] ?? 0) + 1;
    if (solicited) {
      rec.pendingCmd = false;
      const w = rec.waiters;
      rec.waiters = undefined;
      if (w) for (const resolve of w) resolve(o);
    }
    this.o.onOutcome?.(rec, o, solicited);
  }

  /** the first re-send comes this long after a request went unanswered (then doubling) */
  private resendBaseMs(): number {
    return this.o.resendMs ?? Math.max(50, 20 * evbTimerMs(this.op.rte));
  }

  /**
   * respWaitDelay runs from the request (a fresh one restarts it; a re-send keeps it). The
   * resend timer does not run while the request waits in our own queue: it is armed when
   * the request goes on the wire (pull), since re-queueing a request that is still queued
   * re-sends nothing. (Armed at queueing, it fired over and over for the tail of a 10,000-VSI
   * burst: ~2.8 state-machine steps and timer re-arms per VSI that changed nothing.)
   */
  private armRespWait(rec: StationRecord, fresh: boolean): void {
    const t = this.o.timers;
    t.cancel(rec.resendTimer);
    rec.resendTimer = undefined;
    if (!this.linkUp) return;
    if (fresh || rec.respTimer === undefined) {
      t.cancel(rec.respTimer);
      rec.respTimer = t.afterCall(respWaitDelayMs(this.op), this.respTimeout, rec);
    }
  }

  /** the resend timer of a request on the wire: base, doubling with each re-send, capped */
  private armResend(rec: StationRecord): void {
    const t = this.o.timers;
    t.cancel(rec.resendTimer);
    rec.resendTimer = undefined;
    if (!this.linkUp) return;
    const delay = Math.min(this.o.maxResendMs ?? 2000, this.resendBaseMs() * 2 ** Math.min(rec.resends, 10));
    rec.resendTimer = t.afterCall(delay, this.resendDue, rec);
  }

  // timer callbacks shared by every VSI (the record is the timer's argument)
  private readonly respTimeout = (rec: StationRecord): void => {
    // fired late: this station could not hear for that long, so it waits as long again (lateBy says why)
    rec.respTimer = againIfLate(this.o.timers, rec.respTimer, this.respTimeoutFinal, rec);
    if (rec.respTimer) this.counters.respWaitExtended++;
    else this.respTimeoutFinal(rec);
  };

  private readonly respTimeoutFinal = (rec: StationRecord): void => {
    rec.respTimer = undefined;
    this.o.timers.cancel(rec.resendTimer);
    rec.resendTimer = undefined;
    this.dispatch(rec, { type: 'RESP_TIMEOUT' });
  };

  private readonly resendDue = (rec: StationRecord): void => {
    rec.resendTimer = undefined;
    this.dispatch(rec, { type: 'RESEND_DUE' });
  };

  private readonly reapIfEnded = (rec: StationRecord): void => {
    if (this.recs.get(rec.key) === rec && rec.state === 'END') this.reap(rec);
  };

  private ended(rec: StationRecord): void {
    const t = this.o.timers;
    t.cancel(rec.respTimer);
    t.cancel(rec.resendTimer);
    this.kaQueue.cancel(rec);
    rec.respTimer = rec.resendTimer = undefined;
    this.queue.delete(rec);
    rec.queued = false;
    rec.endedAt = t.now();
    if (rec.pendingCmd) this.outcome(rec, { kind: 'deassoc-by-bridge', mode: rec.ctx.mode });
    this.o.onChange?.();
    // keep the final status readable (libvirt polls; two readers may race) before reaping
    const keepFor = this.o.endedRetentionMs ?? 60_000;
    t.afterCall(keepFor, this.reapIfEnded, rec);
  }

  private reap(rec: StationRecord): void {
    if (this.recs.get(rec.key) === rec) this.recs.delete(rec.key);
  }

  private kickTimer: TimerHandle | undefined;

  /**
   * Queue a VSI for transmission. ECP is kicked at the end of the current turn, not at
   * once, so a burst of commands issued together is packed into as few ECPDUs as fit.
   */
  private enqueue(rec: StationRecord): void {
    if (!rec.queued) {
      rec.queued = true;
      this.queue.add(rec);
    }
    if (this.ready && this.linkUp && this.kickTimer === undefined) {
      this.kickTimer = this.o.timers.after(0, () => {
        this.kickTimer = undefined;
        this.lower?.kick();
      });
    }
  }

  private entryFor(rec: StationRecord): VdpEntry {
    const w = rec.wire;
    return {
      managerId: w.managerId,
      vsi: { kind: 'vsi', mode: rec.ctx.mode, status: w.hints & 0x30, typeId: w.typeId, typeVersion: w.typeVersion, vsiidFormat: w.vsiidFormat, vsiid: w.vsiid, filterFormat: w.filterFormat, filters: w.filters },
      org: w.org ?? [],
    };
  }

  // ------------------------------------------------------------------ EcpUlp

  pull(maxLen: number): UlpduOut | undefined {
    if (!this.ready || !this.linkUp || this.queue.size === 0) return undefined;
    const entries: VdpEntry[] = [];
    const keys: StationRecord[] = [];
    let size = 0;
    for (const rec of this.queue) {
      const e = this.entryFor(rec);
      // one Manager ID per ECPDU (lldpad drops ECPDUs with a second one); FIFO order is kept
      if (entries.length > 0 && !sameManagerId(e.managerId, entries[0]!.managerId)) break;
      if (entries.length >= this.packLimit) break;
      const n = vdpEntrySize(e, entries.length === 0);
      if (size + n > maxLen - VDP_END_TLV_LEN) break;
      size += n;
      entries.push(e);
      keys.push(rec);
    }
    if (entries.length === 0) return undefined;
    const now = this.o.timers.now();
    if (now !== this.epochAt) {
      this.epochAt = now;
      this.epoch++;
    }
    for (const rec of keys) {
      this.queue.delete(rec);
      rec.queued = false;
      rec.sentAt = this.epoch;
      this.armResend(rec);
      // counted when it goes on the wire, not when due: a keep-alive still queued when a
      // new command arrives is replaced by that command and never sent
      if (!rec.pendingCmd && rec.resends === 0) this.counters.keepAlives++;
    }
    this.counters.ulpdusSent++;
    this.counters.tlvsSent += entries.length;
    this.counters.requestsSent += entries.length;
    return { ulpdu: encodeVdpEntries(entries, { end: true }), token: keys };
  }

  /** the current adaptive packing limit (TLVs per ECPDU) */
  get packing(): number {
    return this.packLimit;
  }

  private congested(): void {
    const now = this.o.timers.now();
    // one cut per burst of overdue responses: they all stem from the same overload
    if (now - this.lastCut < 500) return;
    this.lastCut = now;
    this.cleanResponses = 0;
    const was = this.packLimit;
    this.packLimit = Math.max(1, Math.floor(this.packLimit / 2));
    if (this.packLimit !== was) this.counters.packingCuts++;
  }

  private answered(): void {
    if (this.packLimit >= this.maxPerEcpdu) return;
    if (++this.cleanResponses >= 8 * this.packLimit) {
      this.cleanResponses = 0;
      this.packLimit++;
    }
  }

  delivered(token: unknown): void {
    for (const rec of token as StationRecord[]) rec.ecpAcked = true;
  }

  abandoned(token: unknown): void {
    for (const rec of token as StationRecord[]) {
      this.counters.ecpAbandoned++;
      if (this.recs.get(rec.key) === rec && rec.state !== 'END') this.dispatch(rec, { type: 'ECP_ABANDONED' });
    }
  }

  receive(ulpdu: Uint8Array, decoded?: VdpUlpdu): void {
    const entries = decoded ? vdpEntries(decoded) : tryVdpEntries(ulpdu);
    if (entries instanceof PduError) {
      this.counters.malformedUlpdu++;
      return;
    }
    for (const e of entries) this.receiveEntry(e);
  }

  private receiveEntry(e: VdpEntry): void {
    const v0 = e.vsi;
    const rec = this.recs.get(vsiKey({ managerId: e.managerId, typeId: v0.typeId, typeVersion: v0.typeVersion, vsiidFormat: v0.vsiidFormat, vsiid: v0.vsiid }));
    if (rec?.deferredMode !== undefined) this.runDeferred(rec);
    if (!rec || rec.state === 'END' || rec.state === 'INIT') {
      this.counters.unknownVsi++;
      return;
    }
    const v = e.vsi;
    if ((v.status & VDP_STATUS_RESPONSE) === 0) {
      if (v.mode === 'deassoc') {
        // A bridge that just restarted may shed VSIs while it comes up (lldpad does, with its
        // zero timers); every VSI is re-sent when the restart pause ends, so keep them.
        if (this.o.timers.now() < this.resyncUntil && rec.ctx.confirmed !== null) {
          this.counters.deassocDuringResync++;
          return;
        }
        const before = rec.state;
        this.dispatch(rec, { type: 'UNSOLICITED_DEASSOC', requestDelivered: rec.ecpAcked });
        if (rec.state === before) this.counters.staleDeassocIgnored++;
        return;
      }
      this.counters.unexpectedRequests++;
      return;
    }
    this.counters.responses++;
    this.lastAnswerAt = this.o.timers.now();
    this.answered();
    if (rec.sentAt > this.lastAnswerSentAt) this.lastAnswerSentAt = rec.sentAt;
    const filtersOk = v.filterFormat === rec.wire.filterFormat && responseFiltersMatch(rec.wire.filters, v.filters);
    this.returned = filtersOk ? v.filters : undefined;
    this.returnedFor = rec;
    try {
      this.dispatch(rec, { type: 'RESPONSE', mode: v.mode, status: v.status, filtersOk });
    } finally {
      this.returned = this.returnedFor = undefined;
    }
  }

  // ------------------------------------------------------------------ queries and persistence

  get(key: VsiKey): StationRecord | undefined {
    return this.recs.get(key);
  }

  /** libvirt knows a VSI by its instance UUID only */
  findByVsiid(vsiid: Uint8Array): StationRecord[] {
    const h = toHex(vsiid);
    const out: StationRecord[] = [];
    for (const r of this.recs.values()) if (toHex(r.wire.vsiid) === h) out.push(r);
    return out;
  }

  records(): IterableIterator<StationRecord> {
    return this.recs.values();
  }

  view(rec: StationRecord): VsiStatusView {
    return {
      key: rec.key,
      vsiid: this.vsiLabel(rec),
      vsiidFormat: rec.wire.vsiidFormat,
      managerId: toHex(rec.wire.managerId),
      typeId: rec.wire.typeId,
      typeVersion: rec.wire.typeVersion,
      state: rec.state,
      mode: rec.ctx.mode,
      confirmed: rec.ctx.confirmed,
      inProgress: rec.pendingCmd,
      status: rec.ctx.status,
      filters: rec.wire.filters,
      lastOutcome: rec.lastOutcome,
      reason: rec.ctx.reason,
    };
  }

  list(): VsiStatusView[] {
    return [...this.listChunks(Infinity)].flat();
  }

  /**
   * The same views, `size` at a time, each chunk built only when asked for: the status of
   * 10,000 VSIs built at once held the event loop for ~50 ms (a caller spreads the chunks
   * over turns). VSIs added or removed between chunks are seen or skipped as a Map's
   * iterator sees them.
   */
  *listChunks(size: number): Generator<VsiStatusView[]> {
    let out: VsiStatusView[] = [];
    for (const r of this.recs.values()) {
      out.push(this.view(r));
      if (out.length >= size) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  /**
   * The VSIs to keep across a restart, `size` at a time, so the state file can be built over
   * several event-loop turns. Deferred commands are saved in their commanded mode without
   * being run (running them all here would undo the slicing of a burst).
   */
  *exportStateChunks(size = 250): Generator<PersistedVsi[]> {
    let out: PersistedVsi[] = [];
    // the records share a few Manager ID arrays (sharedManagerId): one hex text per array
    let mgr: Uint8Array | undefined;
    let mgrHex = '';
    for (const r of this.recs.values()) {
      const deferred = r.deferredMode;
      if (deferred === undefined && (r.state === 'END' || r.state === 'INIT')) continue;
      const mode = deferred ?? (r.pendingCmd ? r.ctx.mode : (r.ctx.confirmed ?? r.ctx.mode));
      if (mode === 'deassoc') continue;
      if (r.wire.managerId !== mgr) {
        mgr = r.wire.managerId;
        mgrHex = toHex(mgr);
      }
      const p: PersistedVsi = {
        managerId: mgrHex,
        typeId: r.wire.typeId,
        typeVersion: r.wire.typeVersion,
        vsiidFormat: r.wire.vsiidFormat,
        vsiid: toHex(r.wire.vsiid),
        filterFormat: r.wire.filterFormat,
        filters: r.wire.filters,
        hints: r.wire.hints,
        mode,
      };
      if (r.requester !== undefined) p.requester = r.requester;
      out.push(p);
      if (out.length >= size) {
        yield out;
        out = [];
      }
    }
    yield out;
  }

  /** Restore VSIs after a restart: each is re-sent in its saved mode. Bad entries are skipped and returned. */
  importState(list: PersistedVsi[], fromHex: (s: string) => Uint8Array): { restored: number; skipped: string[] } {
    let restored = 0;
    const skipped: string[] = [];
    for (const p of list) {
      try {
        const wire: VsiWire = {
          managerId: fromHex(p.managerId),
          typeId: p.typeId,
          typeVersion: p.typeVersion,
          vsiidFormat: p.vsiidFormat,
          vsiid: fromHex(p.vsiid),
          filterFormat: p.filterFormat,
          filters: p.filters,
          hints: p.hints,
        };
        const { outcome } = this.command(p.mode, wire, p.requester);
        void outcome;
        restored++;
      } catch (e) {
        skipped.push(`${p.vsiid}: ${(e as Error).message}`);
      }
    }
    return { restored, skipped };
  }
}
