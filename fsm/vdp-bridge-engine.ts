/**
 * The bridge side of VDP on one port (the bridge emulator's engine): a VSI table of
 * bridge machines, a policy function that decides each request (accept, reject with a
 * reason, keep, assign VIDs to VID-0 entries, change PCP, delay, ignore), resourceWaitDelay,
 * toutKeepAlive, unsolicited de-associate. Malformed requests are answered with the
 * request's own TLV type and reason 1 or 5 (lldpad answered with a DeAssoc and reason 2).
 */
import { toHex, uuidToString } from '../pdu/bytes.js';
import { PduError } from '../pdu/errors.js';
import { encodeVdpEntries, sameManagerId, tryVdpEntries, VDP_END_TLV_LEN, vdpEntries, vdpEntrySize } from '../pdu/vdp.js';
import { validateVsi } from '../pdu/validate.js';
import { VDP_STATUS_HARD, VDP_STATUS_KEEP, VDP_STATUS_RESPONSE, VDP_RESP_INSUFFICIENT_RESOURCES, type FilterEntry, type VdpEntry, type VdpUlpdu, type VsiMode } from '../pdu/types.js';
import { againIfLate, type TimerHandle, type TimerService } from './timers.js';
import { wanted, type TransitionSink } from './transitions.js';
import { ByteSlab } from './byte-slab.js';
import { CompiledMachine } from './compiled.js';
import { EVB_DEFAULTS, evbTimerMs, toutKeepAliveMs, type EcpLower, type EcpUlp, type EvbOperative, type UlpduOut } from './ulp.js';
import { bridgeMachine, type BridgeContext, type BridgeDecision, type BridgeEffect, type BridgeEvent, type BridgeState } from './vdp-bridge.js';
import { filtersEqualForKey, vsiKey, type VsiKey } from './vsi.js';

export type { BridgeDecision };

export interface BridgeRequestView {
  key: VsiKey;
  mode: VsiMode;
  entry: VdpEntry;
  /** VSIs currently associated or pre-associated on this port */
  activeVsis: number;
  /** keep-alive of an already confirmed VSI */
  keepAlive: boolean;
}

export type BridgePolicy = (req: BridgeRequestView) => BridgeDecision;

// one decision for every VSI (records keep the last decision; nothing changes it)
const ACCEPT: BridgeDecision = Object.freeze({ action: 'accept' as const });
export const acceptAll: BridgePolicy = () => ACCEPT;

export interface BridgeRecord {
  key: VsiKey;
  entry: VdpEntry;
  state: BridgeState;
  ctx: BridgeContext;
  decision: BridgeDecision | undefined;
  toutTimer: TimerHandle | undefined;
  rwdTimer: TimerHandle | undefined;
  decideTimer: TimerHandle | undefined;
  deassocTimer: TimerHandle | undefined;
  since: number;
  lastSeen: number;
}

export interface BridgeCounters {
  requests: number;
  keepAlives: number;
  accepted: number;
  rejected: Record<string, number>;
  kept: number;
  malformed: number;
  malformedUlpdu: number;
  unsolicitedDeassoc: number;
  keepAliveTimeouts: number;
  /** toutKeepAlive timers that fired late (the bridge did not run) and waited as long again */
  toutKeepAliveExtended: number;
  responsesSent: number;
  ulpdusSent: number;
  ignoredBusy: number;
  ignoredResponses: number;
}

export interface BridgeEngineOptions {
  id: string;
  timers: TimerService;
  policy?: BridgePolicy;
  maxVsis?: number;
  onTransition?: TransitionSink;
  onChange?: () => void;
  /** lab fault: leave this share (0..100) of all ECP ACKs unsent (policy rules may ask for more per VSI) */
  dropAckPercent?: number;
  /** random source for the faults (deterministic in tests) */
  random?: () => number;
}

/** An entry with PS set asked for exactly its PS/PCP/VID field: the station refuses any change to it (§4.6). */
function withAssignments(filters: FilterEntry[], d: BridgeDecision): FilterEntry[] {
  // nothing to assign: the list as it is (entries are replaced, never changed in place)
  if (d.pcp === undefined && (d.assignVid === undefined || !filters.some((f) => !f.ps && f.vid === 0))) return filters;
  return filters.map((f) => {
    const o = { ...f };
    if (o.ps) return o;
    if (o.vid === 0 && d.assignVid !== undefined) o.vid = d.assignVid;
    if (d.pcp !== undefined) o.pcp = d.pcp;
    return o;
  });
}

const STORED = new CompiledMachine<typeof bridgeMachine, BridgeContext>(bridgeMachine);

/** one VSI as the bridge holds it (status, list) */
export interface BridgeVsiView {
  vsiid: string;
  typeId: number;
  typeVersion: number;
  state: BridgeState;
  confirmed: VsiMode | null;
  filters: FilterEntry[];
  sinceMs: number;
  reason: string;
}

export class VdpBridgeEngine implements EcpUlp {
  private recs = new Map<VsiKey, BridgeRecord>();
  private out: VdpEntry[] = [];
  private lower: EcpLower | undefined;
  private op: EvbOperative = EVB_DEFAULTS;
  private policy: BridgePolicy;
  readonly counters: BridgeCounters = {
    requests: 0,
    keepAlives: 0,
    accepted: 0,
    rejected: {},
    kept: 0,
    malformed: 0,
    malformedUlpdu: 0,
    unsolicitedDeassoc: 0,
    keepAliveTimeouts: 0,
    toutKeepAliveExtended: 0,
    responsesSent: 0,
    ulpdusSent: 0,
    ignoredBusy: 0,
    ignoredResponses: 0,
  };

  constructor(private readonly o: BridgeEngineOptions) {
    this.policy = o.policy ?? acceptAll;
  }

  /**
   * Lab fault injection for the port's ECP: leave the ACK for this ECPDU unsent with the
   * bridge-wide share, or the largest share a policy rule gives one of the VSIs it carries.
   * The ULPDU is still delivered: this is an ACK lost on the way back.
   */
  suppressAck(ulpdu: Uint8Array): boolean {
    let pct = this.o.dropAckPercent ?? 0;
    if (this.hasAckRules) {
      const entries = tryVdpEntries(ulpdu);
      if (!(entries instanceof PduError)) {
        for (const e of entries) {
          const d = this.policy({ key: '', mode: e.vsi.mode, entry: e, activeVsis: this.active, keepAlive: false });
          if (d.dropAckPercent !== undefined && d.dropAckPercent > pct) pct = d.dropAckPercent;
        }
      }
    }
    return pct > 0 && (this.o.random ?? Math.random)() * 100 < pct;
  }

  /** set by the daemon when a policy rule has dropAckPercent (decoding every ULPDU otherwise is wasted) */
  hasAckRules = false;

  attachLower(lower: EcpLower): void {
    this.lower = lower;
  }

  setOperative(op: EvbOperative): void {
    this.op = op;
  }

  setPolicy(p: BridgePolicy): void {
    this.policy = p;
  }

  get size(): number {
    return this.recs.size;
  }

  private activeCount = 0;
  private immediate: { rec: BridgeRecord; decision: BridgeDecision } | undefined;

  /** VSIs in BR_WAITCMD (associated or pre-associated), kept as a running count */
  get active(): number {
    return this.activeCount;
  }

  records(): IterableIterator<BridgeRecord> {
    return this.recs.values();
  }

  list(): BridgeVsiView[] {
    return [...this.listChunks(Infinity)].flat();
  }

  /** The same views, `size` at a time, each chunk built only when asked for (see the station's listChunks). */
  *listChunks(size: number): Generator<BridgeVsiView[]> {
    let out: BridgeVsiView[] = [];
    for (const r of this.recs.values()) {
      out.push({
        vsiid: r.entry.vsi.vsiidFormat === 5 ? uuidToString(r.entry.vsi.vsiid) : toHex(r.entry.vsi.vsiid),
        typeId: r.entry.vsi.typeId,
        typeVersion: r.entry.vsi.typeVersion,
        state: r.state,
        confirmed: r.ctx.confirmed,
        filters: r.entry.vsi.filters,
        sinceMs: this.o.timers.now() - r.since,
        reason: r.ctx.reason,
      });
      if (out.length >= size) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  /** De-associate a VSI on the bridge's own initiative. */
  deassociate(key: VsiKey, why = 'admin-deassoc'): boolean {
    const r = this.recs.get(key);
    if (!r || r.state === 'BR_END') return false;
    this.dispatch(r, { type: 'ADMIN_DEASSOC', why });
    return true;
  }

  /** Port down or the station gone: the table is dropped silently (the station re-associates). */
  clear(): void {
    for (const r of this.recs.values()) this.stopTimers(r);
    this.recs.clear();
    this.out = [];
    this.activeCount = 0;
  }

  // ------------------------------------------------------------------ EcpUlp

  receive(ulpdu: Uint8Array, decoded?: VdpUlpdu): void {
    const entries = decoded ? vdpEntries(decoded) : tryVdpEntries(ulpdu);
    if (entries instanceof PduError) {
      this.counters.malformedUlpdu++;
      return;
    }
    for (const e of entries) this.request(e);
  }

  private reply(entry: VdpEntry, mode: VsiMode, status: number, filters = entry.vsi.filters): void {
    this.out.push({ managerId: entry.managerId, vsi: { ...entry.vsi, mode, status, filters }, org: [] });
    this.counters.responsesSent++;
    this.lower?.kick();
  }

  private request(e: VdpEntry): void {
    const v = e.vsi;
    if (v.status & VDP_STATUS_RESPONSE) {
      this.counters.ignoredResponses++;
      return;
    }
    this.counters.requests++;
    const problems = validateVsi(v, { groupIds: this.op.gpid });
    if (problems.length > 0) {
      this.counters.malformed++;
      this.reply(e, v.mode, VDP_STATUS_RESPONSE | problems[0]!.code);
      return;
    }
    const key = vsiKey({ managerId: e.managerId, typeId: v.typeId, typeVersion: v.typeVersion, vsiidFormat: v.vsiidFormat, vsiid: v.vsiid });
    let rec = this.recs.get(key);
    if (!rec) {
      if (v.mode === 'deassoc') {
        // nothing to remove: success, no record (lldpad does the same)
        this.reply(e, 'deassoc', VDP_STATUS_RESPONSE);
        return;
      }
      // manager IDs repeat across thousands of VSIs: records share one copy
      if (this.lastMgr !== undefined && sameManagerId(e.managerId, this.lastMgr)) e.managerId = this.lastMgr;
      else this.lastMgr = e.managerId;
      v.vsiid = this.vsiids.copy(v.vsiid);
      rec = {
        key,
        entry: e,
        state: 'BR_INIT',
        ctx: { mode: v.mode, confirmed: null, reason: 'created' },
        decision: undefined,
        toutTimer: undefined,
        rwdTimer: undefined,
        decideTimer: undefined,
        deassocTimer: undefined,
        since: this.o.timers.now(),
        lastSeen: this.o.timers.now(),
      };
      this.recs.set(key, rec);
    } else if (rec.state === 'BR_PROCESS') {
      this.counters.ignoredBusy++;
      return;
    }
    rec.lastSeen = this.o.timers.now();
    const old = rec.entry;
    const sameFilters = filtersEqualForKey(old.vsi.filters, v.filters) && old.vsi.filterFormat === v.filterFormat;
    if (sameFilters && old !== e) {
      // the decoded entry is this engine's own (nothing else holds it): take it as the
      // record's, with the filters confirmed so far and the IDs the record already holds
      // (equal: they are in the key)
      if (rec.state === 'BR_WAITCMD') v.filters = old.vsi.filters;
      v.vsiid = old.vsi.vsiid;
      e.managerId = old.managerId;
    }
    rec.entry = e;
    this.dispatch(rec, { type: 'REQUEST', mode: v.mode, sameFilters });
  }

  private dispatch(rec: BridgeRecord, event: BridgeEvent): void {
    const next = STORED.step(rec.state, rec.ctx, event);
    const from = rec.state;
    rec.state = next.value as BridgeState;
    rec.ctx = next.context;
    if (from === 'BR_WAITCMD' && rec.state !== 'BR_WAITCMD') this.activeCount--;
    if (from !== 'BR_WAITCMD' && rec.state === 'BR_WAITCMD') this.activeCount++;
    if (from !== rec.state || event.type === 'REQUEST') {
      const sink = this.o.onTransition;
      if (wanted(sink, 'vdp-bridge')) sink({ t: this.o.timers.now(), machine: 'vdp-bridge', id: rec.entry.vsi.vsiidFormat === 5 ? uuidToString(rec.entry.vsi.vsiid) : toHex(rec.entry.vsi.vsiid), from, to: rec.state, reason: rec.ctx.reason });
    }
    if (event.type === 'DECIDED') rec.decision = event.decision;
    for (const a of next.actions) this.effect(rec, a as BridgeEffect);
    const now = this.immediate;
    if (now && now.rec === rec) {
      this.immediate = undefined;
      if (rec.state === 'BR_PROCESS') this.dispatch(rec, { type: 'DECIDED', decision: now.decision });
      return;
    }
    if (rec.state === 'BR_END') {
      this.stopTimers(rec);
      if (this.recs.get(rec.key) === rec) this.recs.delete(rec.key);
      this.o.onChange?.();
    }
  }

  // timer callbacks shared by every VSI (the record is the timer's argument)
  private readonly rwdExpired = (rec: BridgeRecord): void => {
    rec.rwdTimer = undefined;
    this.dispatch(rec, { type: 'RWD_EXPIRED' });
  };

  private readonly toutKa = (rec: BridgeRecord): void => {
    // fired late: this bridge could not hear for that long, so it waits as long again (lateBy says why)
    rec.toutTimer = againIfLate(this.o.timers, rec.toutTimer, this.toutKaFinal, rec);
    if (rec.toutTimer) this.counters.toutKeepAliveExtended++;
    else this.dispatch(rec, { type: 'TOUT_KA' });
  };

  private readonly toutKaFinal = (rec: BridgeRecord): void => {
    rec.toutTimer = undefined;
    this.dispatch(rec, { type: 'TOUT_KA' });
  };

  private lastMgr: Uint8Array | undefined;
  /** the records' VSIIDs, packed (ByteSlab says why) */
  private readonly vsiids = new ByteSlab();

  private stopTimers(r: BridgeRecord): void {
    const t = this.o.timers;
    t.cancel(r.toutTimer);
    t.cancel(r.rwdTimer);
    t.cancel(r.decideTimer);
    r.toutTimer = r.rwdTimer = r.decideTimer = undefined;
  }

  private effect(rec: BridgeRecord, e: BridgeEffect): void {
    const t = this.o.timers;
    const d = rec.decision;
    switch (e) {
      case 'decide': {
        t.cancel(rec.rwdTimer);
        rec.rwdTimer = t.afterCall(evbTimerMs(this.op.rwd), this.rwdExpired, rec);
        const view: BridgeRequestView = { key: rec.key, mode: rec.ctx.mode, entry: rec.entry, activeVsis: this.active, keepAlive: false };
        let decision = this.policy(view);
        if (decision.action === 'accept' && rec.ctx.mode !== 'deassoc' && this.o.maxVsis !== undefined && rec.ctx.confirmed === null && this.active >= this.o.maxVsis) {
          decision = { action: 'reject', reason: VDP_RESP_INSUFFICIENT_RESOURCES };
        }
        if (decision.delayMs && decision.delayMs > 0) {
          rec.decideTimer = t.after(decision.delayMs, () => {
            rec.decideTimer = undefined;
            this.dispatch(rec, { type: 'DECIDED', decision });
          });
        } else {
          // decided at once: delivered right after this transition completes (see dispatch)
          this.immediate = { rec, decision };
        }
        return;
      }
      case 'replyAccepted': {
        this.counters.accepted++;
        const filters = d ? withAssignments(rec.entry.vsi.filters, d) : rec.entry.vsi.filters;
        if (filters !== rec.entry.vsi.filters) rec.entry = { ...rec.entry, vsi: { ...rec.entry.vsi, filters } };
        this.reply(rec.entry, rec.ctx.mode, VDP_STATUS_RESPONSE, filters);
        if (d?.deassocAfterMs !== undefined && rec.ctx.mode !== 'deassoc') {
          t.cancel(rec.deassocTimer);
          rec.deassocTimer = t.after(d.deassocAfterMs, () => {
            rec.deassocTimer = undefined;
            if (this.recs.get(rec.key) === rec && rec.state === 'BR_WAITCMD') this.dispatch(rec, { type: 'ADMIN_DEASSOC', why: 'policy-deassoc-after' });
          });
        }
        return;
      }
      case 'replyRejected': {
        const code = d?.reason ?? 4;
        this.counters.rejected[String(code)] = (this.counters.rejected[String(code)] ?? 0) + 1;
        this.reply(rec.entry, rec.ctx.mode, VDP_STATUS_RESPONSE | (d?.hard ? VDP_STATUS_HARD : 0) | (code & 0x0f));
        return;
      }
      case 'replyKeep':
        this.counters.kept++;
        this.reply(rec.entry, rec.ctx.mode, VDP_STATUS_RESPONSE | VDP_STATUS_KEEP | (d?.hard ? VDP_STATUS_HARD : 0) | ((d?.reason ?? 4) & 0x0f));
        return;
      case 'replyAlive':
        this.counters.keepAlives++;
        this.reply(rec.entry, rec.ctx.confirmed ?? rec.ctx.mode, VDP_STATUS_RESPONSE);
        return;
      case 'unsolicitedDeassoc':
        this.counters.unsolicitedDeassoc++;
        if (rec.ctx.reason === 'keepalive-timeout') this.counters.keepAliveTimeouts++;
        t.cancel(rec.deassocTimer);
        this.reply(rec.entry, 'deassoc', 0);
        this.counters.responsesSent--;
        return;
      case 'startToutKeepAlive':
        // restarted by every keep-alive: the VSI's one entry, armed again (TimerService.afterCall's reuse)
        t.cancel(rec.toutTimer);
        rec.toutTimer = t.afterCall(toutKeepAliveMs(this.op), this.toutKa, rec, rec.toutTimer);
        return;
      case 'stopTimers':
        t.cancel(rec.toutTimer);
        t.cancel(rec.rwdTimer);
        rec.toutTimer = rec.rwdTimer = undefined;
        return;
    }
  }

  pull(maxLen: number): UlpduOut | undefined {
    if (this.out.length === 0) return undefined;
    let size = 0;
    let n = 0;
    while (n < this.out.length) {
      if (n > 0 && !sameManagerId(this.out[n]!.managerId, this.out[0]!.managerId)) break;
      const s = vdpEntrySize(this.out[n]!, n === 0);
      if (size + s > maxLen - VDP_END_TLV_LEN) break;
      size += s;
      n++;
    }
    if (n === 0) n = 1; // an oversized single entry cannot come from a valid request; let the encoder refuse it
    const batch = this.out.splice(0, n);
    this.counters.ulpdusSent++;
    return { ulpdu: encodeVdpEntries(batch, { end: true }), token: batch.length };
  }

  delivered(): void {}

  abandoned(): void {
    // A lost answer is recovered by the station's re-send or keep-alive.
  }
}
