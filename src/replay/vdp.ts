/**
 * VDP per VSI (keyed by the VSIID text): requests, keep-alives, responses and unsolicited
 * De-Associates on a timeline, with the station-side state derived from them
 * (`ASSOC_WAIT -> ASSOCIATED reason=bridge-response-success`, …) and the findings that
 * need VDP timers: late/no/error/unknown/unexpected responses, late keep-alives,
 * unsolicited De-Associates.
 *
 * Only the first transmission of an ECPDU reaches this layer: ECP retransmissions and
 * duplicates are not new VDP messages (the receiving ECP drops them).
 */
import { describeStatus, reasonText, statusShort, VSI_TLV_NAMES } from '../../pdu/describe.js';
import type { VsiMode } from '../../pdu/types.js';
import type { EcpEv, VdpItem } from './collect.js';
import type { SentEcpdu } from './ecp.js';
import type { EvbTimers, Finding, TimelineEntry, TimelineKind, VsiReport } from './types.js';
import { finding, fmtMs, round3 } from './util.js';

const WAIT: Record<VsiMode, string> = { preassoc: 'PREASSOC_WAIT', 'preassoc-rr': 'PREASSOC_RR_WAIT', assoc: 'ASSOC_WAIT', deassoc: 'DEASSOC_WAIT' };
const CONFIRMED: Record<VsiMode, string> = { preassoc: 'PREASSOCIATED', 'preassoc-rr': 'PREASSOCIATED_RR', assoc: 'ASSOCIATED', deassoc: 'END' };
const ALIVE = new Set(['PREASSOCIATED', 'PREASSOCIATED_RR', 'ASSOCIATED']);

/** records kept for reuse at most (VdpTracker.spare) */
const SPARE_MAX = 4096;

interface Pending {
  vsi: Vsi;
  mode: VsiMode;
  frame: number;
  t: number;
  kind: 'request' | 'keepalive';
  deadline: number;
  timedOut: boolean;
  answered: boolean;
  /** the ECPDU that carried it last: its ACKs tell whether the bridge has the request */
  sent: SentEcpdu;
  /** an earlier ECPDU that carried it was acknowledged */
  deliveredBefore: boolean;
}

/** the bridge's ECP acknowledged an ECPDU carrying the request (vdpd's station: `ecpAcked`) */
function delivered(p: Pending): boolean {
  return p.deliveredBefore || p.sent.ackCount > 0;
}

/** An open run of uneventful keep-alives (collapsed mode), kept as figures, not entries. */
interface KaRun {
  /** its slot in the tracker's store of the first pairs of runs (VdpTracker.rawNums) */
  raw: number;
  pairs: number;
  firstFrame: number;
  firstT: number;
  mode: string;
  lastRespFrame: number | null;
  lastRespT: number;
  prevKaT: number;
  maxInterval: number;
  maxLatency: number;
  /** the latest keep-alive is still waiting for its response; it is made into an entry only if it is ever shown */
  open: boolean;
  openFrame: number;
  openT: number;
  openSeq: number;
  openItem: VdpItem;
}

interface Vsi {
  run: KaRun | undefined;
  report: VsiReport;
  state: string;
  /** `state` is one in which the VSI lives and is kept alive (ALIVE) */
  alive: boolean;
  confirmed: VsiMode | undefined;
  pending: Pending[];
  everRequested: boolean;
  /** the latest request's (or keep-alive's) frame (-1: none yet) and time */
  lastReqFrame: number;
  lastReqT: number;
  lastDeassocReq: number | undefined;
}

export type VdpTag = 'response' | 'error-response' | 'unsolicited-deassoc';

function modeName(m: VsiMode): string {
  return VSI_TLV_NAMES[m] ?? m;
}

/** `FROM -> TO` texts, made once per pair of states: every VSI's timeline has a few, and a text made each time was two strings more per state change to keep */
const TRANSITIONS = new Map<string, Map<string, string>>();

function transitionText(from: string, to: string): string {
  let byTo = TRANSITIONS.get(from);
  if (byTo === undefined) TRANSITIONS.set(from, (byTo = new Map()));
  let text = byTo.get(to);
  if (text === undefined) byTo.set(to, (text = `${from} -> ${to}`));
  return text;
}

/** statusShort of each status octet, made once: every request and response needs one */
const STATUS_TEXT: string[] = [];

function statusText(it: VdpItem): string {
  if (it.draft) return it.reason === 0 ? 'success' : reasonText(it.reason);
  return (STATUS_TEXT[it.status] ??= statusShort(it.status) || 'request');
}

/** The first open (not answered) request with `timedOut` as given: of `mode`, else any when `anyMode`. */
function pickPending(pending: readonly Pending[], mode: VsiMode, anyMode: boolean, timedOut: boolean): Pending | undefined {
  let first: Pending | undefined;
  for (const p of pending) {
    if (p.answered || p.timedOut !== timedOut) continue;
    if (p.mode === mode) return p;
    first ??= p;
  }
  return anyMode ? first : undefined;
}

/** answered, given up on, or dropped by an unsolicited De-Associate: no deadline to watch any more */
function done(p: Pending): boolean {
  return p.answered || p.timedOut || !p.vsi.pending.includes(p);
}

/** `pending` without `p`, in place (these lists hold one or two entries; splice is the slow way) */
function remove(pending: Pending[], p: Pending): void {
  const i = pending.indexOf(p);
  if (i < 0) return;
  for (let j = i + 1; j < pending.length; j++) pending[j - 1] = pending[j]!;
  pending.pop();
}

/**
 * A timeline entry with every field, always in this order: one object shape, and JSON with
 * a stable key order (undefined fields vanish); times rounded to the µs. Every entry but a
 * keep-alive run's is made here, once: no intermediate object to copy it from.
 */
function timelineEntry(
  frame: number | null,
  t: number,
  kind: TimelineKind,
  from: TimelineEntry['from'],
  mode: string | undefined,
  status: number | undefined,
  statusText: string | undefined,
  seq: number | undefined,
  latency: number | undefined,
  transition: string | undefined,
  reason: string | undefined,
  note: string | undefined,
): TimelineEntry {
  return {
    frame,
    timeMs: round3(t),
    kind,
    from,
    mode,
    status,
    statusText,
    seq,
    latencyMs: latency === undefined ? undefined : round3(latency),
    transition,
    reason,
    note,
  };
}

/** A station request's timeline entry. */
function requestEntry(ev: EcpEv, it: VdpItem, kind: TimelineKind, note?: string): TimelineEntry {
  return requestEntryAt(ev.frame, ev.t, ev.seq, it, kind, note);
}

function requestEntryAt(frame: number, t: number, seq: number, it: VdpItem, kind: TimelineKind, note?: string): TimelineEntry {
  return timelineEntry(frame, t, kind, 'station', modeName(it.mode), it.status, statusText(it), seq, undefined, undefined, undefined, note);
}

/** the bridge's response entry */
function responseEntry(ev: EcpEv, it: VdpItem, latency: number | undefined): TimelineEntry {
  return responseEntryAt(ev.frame, ev.t, ev.seq, it, latency);
}

function responseEntryAt(frame: number, t: number, seq: number, it: VdpItem, latency: number | undefined): TimelineEntry {
  return timelineEntry(frame, t, 'response', 'bridge', modeName(it.mode), it.status, statusText(it), seq, latency, undefined, undefined, undefined);
}

/** an entry for a VDP TLV from `from` (unexpected requests and responses, unsolicited De-Associates) */
function itemEntry(ev: EcpEv, it: VdpItem, kind: TimelineKind, from: TimelineEntry['from'], note: string | undefined): TimelineEntry {
  return timelineEntry(ev.frame, ev.t, kind, from, modeName(it.mode), it.status, statusText(it), ev.seq, undefined, undefined, undefined, note);
}

/** the run's open keep-alive as the entry it would have been */
function openEntry(r: KaRun): TimelineEntry {
  return requestEntryAt(r.openFrame, r.openT, r.openSeq, r.openItem, 'keepalive');
}

const NO_TAGS: readonly VdpTag[] = [];
const RESPONSE: readonly VdpTag[] = ['response'];
const ERROR_RESPONSE: readonly VdpTag[] = ['response', 'error-response'];
const UNSOLICITED: readonly VdpTag[] = ['unsolicited-deassoc'];

export class VdpTracker {
  /** by item key (one per VSIID text), and in order of first appearance */
  private byKey: (Vsi | undefined)[] = [];
  private vsis: Vsi[] = [];
  /**
   * Requests waiting for a response, sorted by deadline; entries before `head` are done.
   * Answered ones are dropped in batches (`compact`) rather than kept until their deadline:
   * respWaitDelay is seconds of capture, tens of thousands of requests.
   */
  private deadlines: Pending[] = [];
  /**
   * requests answered and past their deadline, for the next ones: a request's record lives
   * respWaitDelay (long enough to be promoted to the old generation), and a capture has one
   * per VSI TLV sent, ~100,000 in the replay benchmark's
   */
  private spare: Pending[] = [];
  private head = 0;
  private compactAt = 64;
  /**
   * The first MIN_RUN keep-alive/response pairs of each open run, made into entries only if
   * the run ends shorter than that: per pair the keep-alive's frame, time and seq, the
   * response's frame, time and seq, and the latency (`rawNums`), the keep-alive's and the
   * response's item (`rawItems`); a slot per run, reused once it ends (`rawFree`). Every VSI
   * starts a run in a capture's first rounds: two arrays per run, or entries, were thousands
   * of objects to carry through the young generation's collections.
   */
  private rawNums = new Float64Array(0);
  private rawItems: VdpItem[] = [];
  private rawFree: number[] = [];
  private rawSlots = 0;
  private firstStationRequestT: number | undefined;

  constructor(
    private readonly findings: Finding[],
    /** keep every keep-alive in the timeline instead of collapsing uneventful runs */
    private readonly full = false,
  ) {}

  private get(it: VdpItem): Vsi {
    let v = this.byKey[it.key];
    if (!v) {
      v = {
        report: {
          vsiid: it.vsiid,
          vsiidFormat: it.vsiidFormat,
          managerId: it.managerId,
          typeId: it.typeId,
          typeVersion: it.typeVersion,
          filters: it.filters,
          finalState: 'NONE',
          requests: 0,
          keepalives: 0,
          responses: 0,
          timeline: [],
        },
        run: undefined,
        state: 'NONE',
        alive: false,
        confirmed: undefined,
        pending: [],
        everRequested: false,
        lastReqFrame: -1,
        lastReqT: 0,
        lastDeassocReq: undefined,
      };
      while (this.byKey.length < it.key) this.byKey.push(undefined);
      this.byKey[it.key] = v;
      this.vsis.push(v);
    }
    return v;
  }

  /** `e`, made by timelineEntry, onto the VSI's timeline (after its open keep-alive run) */
  private entry(v: Vsi, e: TimelineEntry): void {
    if (v.run) this.flushRun(v);
    v.report.timeline.push(e);
  }

  /** Put an open keep-alive run into the timeline: one `keepalives` line when long enough, else as it was. */
  private flushRun(v: Vsi): void {
    const r = v.run!;
    v.run = undefined;
    const tl = v.report.timeline;
    if (r.pairs >= MIN_RUN) {
      tl.push({
        frame: r.firstFrame,
        timeMs: round3(r.firstT),
        kind: 'keepalives',
        from: 'station',
        mode: r.mode,
        count: r.pairs,
        lastFrame: r.lastRespFrame ?? undefined,
        untilMs: r.lastRespT,
        maxIntervalMs: round3(r.maxInterval),
        maxLatencyMs: round3(r.maxLatency),
        note: `${r.pairs} keep-alives, each answered with success`,
      });
    } else {
      const n = this.rawNums;
      const items = this.rawItems;
      for (let p = 0; p < r.pairs; p++) {
        const i = (r.raw * MIN_RUN + p) * PAIR_NUMS;
        const k = (r.raw * MIN_RUN + p) * PAIR_ITEMS;
        tl.push(requestEntryAt(n[i]!, n[i + 1]!, n[i + 2]!, items[k]!, 'keepalive'));
        tl.push(responseEntryAt(n[i + 3]!, n[i + 4]!, n[i + 5]!, items[k + 1]!, n[i + 6]!));
      }
    }
    if (r.open) tl.push(openEntry(r));
    // the slot's items are let go of with it
    for (let k = r.raw * MIN_RUN * PAIR_ITEMS, end = k + MIN_RUN * PAIR_ITEMS; k < end; k++) this.rawItems[k] = NO_ITEM;
    this.rawFree.push(r.raw);
  }

  /** a free slot in rawNums/rawItems for a new run */
  private rawSlot(): number {
    const free = this.rawFree.pop();
    if (free !== undefined) return free;
    const slot = this.rawSlots++;
    if ((slot + 1) * MIN_RUN * PAIR_NUMS > this.rawNums.length) {
      // doubled at once, with native copies: a capture's first rounds start a run per VSI
      const slots = Math.max(64, 2 * slot);
      const nums = new Float64Array(slots * MIN_RUN * PAIR_NUMS);
      nums.set(this.rawNums);
      this.rawNums = nums;
      const items = new Array<VdpItem>(slots * MIN_RUN * PAIR_ITEMS).fill(NO_ITEM);
      for (let i = 0; i < this.rawItems.length; i++) items[i] = this.rawItems[i]!;
      this.rawItems = items;
    }
    return slot;
  }

  /** collapsed mode: a keep-alive joins the VSI's run (true) or the run ends first (false) */
  private runKeepAlive(v: Vsi, ev: EcpEv, it: VdpItem): boolean {
    if (this.full) return false;
    const r = v.run;
    if (r && r.open) return false; // the previous one is still unanswered: eventful
    if (!r) {
      v.run = {
        raw: this.rawSlot(),
        pairs: 0,
        firstFrame: ev.frame,
        firstT: ev.t,
        mode: modeName(it.mode),
        lastRespFrame: null,
        lastRespT: ev.t,
        prevKaT: ev.t,
        maxInterval: 0,
        maxLatency: 0,
        open: true,
        openFrame: ev.frame,
        openT: ev.t,
        openSeq: ev.seq,
        openItem: it,
      };
      return true;
    }
    r.maxInterval = Math.max(r.maxInterval, ev.t - r.prevKaT);
    r.prevKaT = ev.t;
    // made into a timeline entry only if it is ever shown (the run breaks or stays short)
    r.open = true;
    r.openFrame = ev.frame;
    r.openT = ev.t;
    r.openSeq = ev.seq;
    r.openItem = it;
    return true;
  }

  /** collapsed mode: the success response (`ev`, `it`) to the run's open keep-alive */
  private runResponse(v: Vsi, ev: EcpEv, it: VdpItem, latency: number | undefined): boolean {
    const r = v.run;
    if (!r || !r.open || it.mode !== r.openItem.mode) return false;
    if (r.pairs < MIN_RUN) {
      const n = this.rawNums;
      const i = (r.raw * MIN_RUN + r.pairs) * PAIR_NUMS;
      n[i] = r.openFrame;
      n[i + 1] = r.openT;
      n[i + 2] = r.openSeq;
      n[i + 3] = ev.frame;
      n[i + 4] = ev.t;
      n[i + 5] = ev.seq;
      n[i + 6] = latency!;
      const k = (r.raw * MIN_RUN + r.pairs) * PAIR_ITEMS;
      this.rawItems[k] = r.openItem;
      this.rawItems[k + 1] = it;
    }
    r.pairs++;
    r.open = false;
    r.lastRespFrame = ev.frame;
    r.lastRespT = ev.t;
    r.maxLatency = Math.max(r.maxLatency, latency ?? 0);
    return true;
  }

  private move(v: Vsi, to: string, frame: number | null, t: number, reason: string, note?: string): void {
    if (v.state === to) return;
    this.entry(v, timelineEntry(frame, t, 'state', undefined, undefined, undefined, undefined, undefined, undefined, transitionText(v.state, to), reason, note));
    v.state = to;
    v.alive = ALIVE.has(to);
  }

  /** Respond-wait deadlines that passed before `t`: the station gives up (lldpad: END). */
  flush(t: number, timers: EvbTimers): void {
    while (this.head < this.deadlines.length && this.deadlines[this.head]!.deadline < t) {
      const p = this.deadlines[this.head++]!;
      const vsi = p.vsi;
      if (done(p)) {
        this.release(p);
        continue;
      }
      p.timedOut = true;
      const what = p.kind === 'keepalive' ? 'keep-alive' : 'request';
      this.findings.push(
        finding('no-response', 'warning', p.frame, p.t, `VSI ${vsi.report.vsiid}: ${modeName(p.mode)} ${what} at frame ${p.frame} got no response within respWaitDelay ${fmtMs(timers.respWaitDelayMs)}`, {
          vsiid: vsi.report.vsiid,
          limitMs: timers.respWaitDelayMs,
        }),
      );
      this.move(vsi, 'END', null, p.deadline, p.kind === 'keepalive' ? 'keepalive-no-response' : 'no-response', `respWaitDelay after frame ${p.frame} expired`);
      vsi.confirmed = undefined;
    }
  }

  /**
   * `p` has left the deadline list: reusable once answered (every answer also takes it out of
   * its VSI's pending list); one that timed out unanswered stays pending for a late response
   */
  private release(p: Pending): void {
    if (p.answered && this.spare.length < SPARE_MAX) this.spare.push(p);
  }

  private pending(vsi: Vsi, mode: VsiMode, frame: number, t: number, kind: Pending['kind'], deadline: number, sent: SentEcpdu): Pending {
    const p = this.spare.pop();
    if (p === undefined) return { vsi, mode, frame, t, kind, deadline, timedOut: false, answered: false, sent, deliveredBefore: false };
    p.vsi = vsi;
    p.mode = mode;
    p.frame = frame;
    p.t = t;
    p.kind = kind;
    p.deadline = deadline;
    p.timedOut = false;
    p.answered = false;
    p.sent = sent;
    p.deliveredBefore = false;
    return p;
  }

  private addDeadline(p: Pending): void {
    if (this.deadlines.length >= this.compactAt) this.compact();
    const q = this.deadlines;
    let i = q.length;
    while (i > this.head && q[i - 1]!.deadline > p.deadline) i--;
    // nearly always the latest deadline (respWaitDelay is the same for every request)
    if (i === q.length) q.push(p);
    else q.splice(i, 0, p);
  }

  /** drop the entries flush() would skip (that never changes back), keeping the order */
  private compact(): void {
    const live: Pending[] = [];
    for (let i = this.head; i < this.deadlines.length; i++) {
      const p = this.deadlines[i]!;
      if (!done(p)) live.push(p);
      else this.release(p);
    }
    this.deadlines = live;
    this.head = 0;
    this.compactAt = Math.max(64, 2 * live.length);
  }

  private checkKeepAlive(v: Vsi, frame: number, t: number, timers: EvbTimers): void {
    if (!v.alive || v.lastReqFrame < 0) return;
    const gap = t - v.lastReqT;
    if (gap <= timers.keepAliveToleranceMs) return;
    this.findings.push(
      finding('late-keepalive', 'warning', frame, t, `VSI ${v.report.vsiid} (${v.state}): ${fmtMs(gap)} without a keep-alive since frame ${v.lastReqFrame}, more than 1.5 × reinitKeepAlive = ${fmtMs(timers.keepAliveToleranceMs)}`, {
        vsiid: v.report.vsiid,
        relatedFrames: [v.lastReqFrame],
        valueMs: gap,
        limitMs: timers.keepAliveToleranceMs,
      }),
    );
  }

  /** The VDP TLVs of a new ECPDU, in order; `from` is the sender's role. Their ladder tags go to `tags` when given. */
  onItems(ev: EcpEv, from: 'station' | 'bridge' | 'other', timers: EvbTimers, sent: SentEcpdu, tags: string[] | undefined): void {
    const items = ev.vdp;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      const isResponse = it.responseBit ?? from === 'bridge';
      // the two usual cases first, without a call between (a capture has one per VSI TLV)
      const t =
        from === 'station' && !isResponse ? this.request(ev, it, timers, sent) : from === 'bridge' && isResponse ? this.response(ev, it, timers) : this.unusual(ev, it, from, isResponse, timers);
      if (tags) for (const x of t) tags.push(x);
    }
  }

  /** A VDP TLV that is neither a station's request nor a bridge's response. */
  private unusual(ev: EcpEv, it: VdpItem, from: 'station' | 'bridge' | 'other', isResponse: boolean, timers: EvbTimers): readonly VdpTag[] {
    if (from === 'other') {
      this.findings.push(finding('role-violation', 'info', ev.frame, ev.t, `VDP ${modeName(it.mode)} for VSI ${it.vsiid} from ${ev.src}, which is neither the station nor the bridge: not analysed`, { vsiid: it.vsiid }));
      return NO_TAGS;
    }
    if (from === 'bridge' && it.mode === 'deassoc') return this.unsolicited(ev, it, timers);
    const v = this.get(it);
    this.entry(v, itemEntry(ev, it, isResponse ? 'response' : 'request', from, `unexpected from the ${from}`));
    this.findings.push(
      finding('role-violation', 'warning', ev.frame, ev.t, `VSI ${it.vsiid}: the ${from} sent a ${modeName(it.mode)} ${isResponse ? 'response' : 'request'}, which only the ${from === 'station' ? 'bridge' : 'station'} sends`, {
        vsiid: it.vsiid,
      }),
    );
    return NO_TAGS;
  }

  private request(ev: EcpEv, it: VdpItem, timers: EvbTimers, sent: SentEcpdu): readonly VdpTag[] {
    const v = this.get(it);
    this.firstStationRequestT ??= ev.t;
    this.checkKeepAlive(v, ev.frame, ev.t, timers);
    const waiting = pickPending(v.pending, it.mode, false, false);
    v.lastReqFrame = ev.frame;
    v.lastReqT = ev.t;
    if (it.mode === 'deassoc') v.lastDeassocReq = ev.frame;
    if (waiting) {
      waiting.deliveredBefore = delivered(waiting);
      waiting.sent = sent;
      this.entry(v, requestEntry(ev, it, 'resend', `sent again, the request at frame ${waiting.frame} has no response yet`));
      return NO_TAGS;
    }
    const keepalive = v.confirmed === it.mode && v.state === CONFIRMED[it.mode] && v.alive;
    const p = this.pending(v, it.mode, ev.frame, ev.t, keepalive ? 'keepalive' : 'request', ev.t + timers.respWaitDelayMs, sent);
    v.pending.push(p);
    this.addDeadline(p);
    if (keepalive) {
      v.report.keepalives++;
      if (!this.runKeepAlive(v, ev, it)) this.entry(v, requestEntry(ev, it, 'keepalive'));
    } else {
      v.report.requests++;
      this.entry(v, requestEntry(ev, it, 'request'));
      this.move(v, WAIT[it.mode], ev.frame, ev.t, 'station-request');
    }
    v.everRequested = true;
    return NO_TAGS;
  }

  private response(ev: EcpEv, it: VdpItem, timers: EvbTimers): readonly VdpTag[] {
    const v = this.get(it);
    v.report.responses++;
    let tags = RESPONSE;
    // an error response answers the oldest open request when none of its mode is open
    const p = pickPending(v.pending, it.mode, it.reason !== 0, false) ?? pickPending(v.pending, it.mode, it.reason !== 0, true);
    const latency = p ? ev.t - p.t : undefined;
    if (
      v.run?.open &&
      p !== undefined &&
      p.kind === 'keepalive' &&
      !p.timedOut &&
      it.reason === 0 &&
      latency! <= timers.respWaitDelayMs &&
      v.state === CONFIRMED[it.mode] &&
      this.runResponse(v, ev, it, latency)
    ) {
      p.answered = true;
      remove(v.pending, p);
      v.confirmed = it.mode === 'deassoc' ? undefined : it.mode;
      return tags;
    }
    this.entry(v, responseEntry(ev, it, latency));
    if (it.reason !== 0) {
      tags = ERROR_RESPONSE;
      const st = describeStatus(it.status);
      const flags = `${it.keep ? '; KEEP: the previous state is kept' : ''}${it.hard ? '; HARD: not transient' : ''}`;
      this.findings.push(
        finding('error-response', it.keep ? 'warning' : 'error', ev.frame, ev.t, `VSI ${it.vsiid}: ${modeName(it.mode)} response refused: ${st.reasonText} (reason ${it.reason})${flags}${p ? ` (request at frame ${p.frame})` : ''}`, {
          vsiid: it.vsiid,
          relatedFrames: p ? [p.frame] : undefined,
          reason: it.reason,
          keep: it.keep,
          hard: it.hard,
        }),
      );
    }
    if (!p) {
      if (!v.everRequested) {
        const early = this.firstStationRequestT === undefined || this.firstStationRequestT > ev.t || ev.t <= timers.respWaitDelayMs;
        this.findings.push(
          finding(
            'unknown-vsi-response',
            early ? 'info' : 'warning',
            ev.frame,
            ev.t,
            `VSI ${it.vsiid}: ${modeName(it.mode)} response for a VSI never requested in this capture${early ? ' (the capture probably started after the request)' : ''}`,
            { vsiid: it.vsiid },
          ),
        );
        if (it.reason === 0) {
          this.move(v, CONFIRMED[it.mode], ev.frame, ev.t, 'bridge-response-success', 'request not in the capture');
          v.confirmed = it.mode === 'deassoc' ? undefined : it.mode;
          if (it.mode !== 'deassoc' && v.lastReqFrame < 0) {
            v.lastReqFrame = ev.frame;
            v.lastReqT = ev.t;
          }
        }
      } else {
        const last = v.report.timeline.filter((e) => e.kind === 'response' && e.frame !== ev.frame).pop();
        this.findings.push(
          finding('unexpected-response', 'warning', ev.frame, ev.t, `VSI ${it.vsiid}: ${modeName(it.mode)} response with no request waiting${last?.frame ? ` (the last request was already answered at frame ${last.frame})` : ''}`, {
            vsiid: it.vsiid,
            relatedFrames: last?.frame ? [last.frame] : undefined,
          }),
        );
      }
      return tags;
    }
    p.answered = true;
    remove(v.pending, p);
    if (p.timedOut || latency! > timers.respWaitDelayMs) {
      this.findings.push(
        finding('late-response', 'warning', ev.frame, ev.t, `VSI ${it.vsiid}: ${modeName(it.mode)} response ${fmtMs(latency!)} after the ${p.kind === 'keepalive' ? 'keep-alive' : 'request'} at frame ${p.frame}, later than respWaitDelay ${fmtMs(timers.respWaitDelayMs)}${p.timedOut ? ' (the station had already given up)' : ''}`, {
          vsiid: it.vsiid,
          relatedFrames: [p.frame],
          valueMs: latency!,
          limitMs: timers.respWaitDelayMs,
        }),
      );
      if (p.timedOut) return tags;
    }
    if (it.reason === 0) {
      if (!(p.kind === 'keepalive' && v.state === CONFIRMED[it.mode])) this.move(v, CONFIRMED[it.mode], ev.frame, ev.t, 'bridge-response-success');
      v.confirmed = it.mode === 'deassoc' ? undefined : it.mode;
    } else if (it.keep && v.confirmed) {
      this.move(v, CONFIRMED[v.confirmed], ev.frame, ev.t, 'bridge-response-keep');
    } else {
      this.move(v, 'END', ev.frame, ev.t, it.keep ? 'bridge-response-keep' : 'bridge-response-error');
      v.confirmed = undefined;
    }
    return tags;
  }

  private unsolicited(ev: EcpEv, it: VdpItem, timers: EvbTimers): readonly VdpTag[] {
    const v = this.get(it);
    this.checkKeepAlive(v, ev.frame, ev.t, timers);
    // Sent before the bridge had the request the VSI waits on (its ECPDU not yet
    // acknowledged): the two crossed, and the request supersedes it. vdpd's station ignores
    // such a De-Associate (fsm/vdp-station.ts staleDeassoc) and takes the answer to the
    // request; lldpad's ends the VSI.
    const crossed = v.pending.find((p) => !p.answered && !p.timedOut && p.mode !== 'deassoc' && !delivered(p));
    const what = crossed && `${modeName(crossed.mode)} ${crossed.kind === 'keepalive' ? 'keep-alive' : 'request'} at frame ${crossed.frame}`;
    this.entry(v, itemEntry(ev, it, 'unsolicited-deassoc', 'bridge', what && `crossed the ${what}: stale, the VSI waits for its response`));
    if (crossed) {
      this.findings.push(
        finding('unsolicited-deassoc', 'warning', ev.frame, ev.t, `VSI ${it.vsiid}: the bridge de-associated it without a request, crossing the ${what} (the bridge's ECP had not acknowledged it yet): the request supersedes it and vdpd's station waits for its response (lldpad's ends the VSI)`, {
          vsiid: it.vsiid,
          relatedFrames: [crossed.frame],
        }),
      );
      return UNSOLICITED;
    }
    let ctx = '';
    if (v.state === 'NONE') ctx = ' (the VSI was not seen before in this capture)';
    else if (v.state === 'END') ctx = v.lastDeassocReq !== undefined ? ` (already de-associated by the station at frame ${v.lastDeassocReq}: stale bridge state)` : ' (the VSI had already ended)';
    else if (v.pending.some((p) => !p.answered && !p.timedOut)) ctx = ' while a request the bridge had received waits for its response';
    this.findings.push(
      finding('unsolicited-deassoc', 'warning', ev.frame, ev.t, `VSI ${it.vsiid}: the bridge de-associated it without a request${ctx}`, {
        vsiid: it.vsiid,
        relatedFrames: v.lastReqFrame >= 0 ? [v.lastReqFrame] : undefined,
      }),
    );
    for (const p of v.pending) p.answered = true;
    v.pending = [];
    this.move(v, 'END', ev.frame, ev.t, 'bridge-deassoc');
    v.confirmed = undefined;
    return UNSOLICITED;
  }

  finish(endT: number, timers: EvbTimers): VsiReport[] {
    this.flush(endT + 1e-9, timers);
    const out: VsiReport[] = [];
    for (const v of this.vsis) {
      for (const p of v.pending) {
        if (p.answered || p.timedOut) continue;
        this.findings.push(
          finding('no-response', 'info', p.frame, p.t, `VSI ${v.report.vsiid}: ${modeName(p.mode)} ${p.kind === 'keepalive' ? 'keep-alive' : 'request'} at frame ${p.frame} not answered before the capture ended ${fmtMs(endT - p.t)} later (respWaitDelay ${fmtMs(timers.respWaitDelayMs)} not yet expired)`, {
            vsiid: v.report.vsiid,
          }),
        );
      }
      if (v.alive && v.lastReqFrame >= 0 && endT - v.lastReqT > timers.keepAliveToleranceMs) {
        const gap = endT - v.lastReqT;
        this.findings.push(
          finding('late-keepalive', 'warning', v.lastReqFrame, v.lastReqT, `VSI ${v.report.vsiid} (${v.state}): no keep-alive in the ${fmtMs(gap)} from frame ${v.lastReqFrame} to the end of the capture, more than 1.5 × reinitKeepAlive = ${fmtMs(timers.keepAliveToleranceMs)}`, {
            vsiid: v.report.vsiid,
            valueMs: gap,
            limitMs: timers.keepAliveToleranceMs,
          }),
        );
      }
      if (v.run) this.flushRun(v);
      v.report.finalState = v.state;
      out.push(v.report);
    }
    return out;
  }
}

/** a run of fewer keep-alives than this stays as individual lines */
const MIN_RUN = 3;
/** the item in VdpTracker.rawItems' unused places (one kind of element throughout) */
const NO_ITEM: VdpItem = { mode: 'assoc', status: 0, responseBit: false, reason: 0, keep: false, hard: false, vsiid: '', vsiidFormat: '', managerId: '', typeId: 0, typeVersion: 0, filters: [], draft: false, key: -1 };
/** figures kept per keep-alive/response pair of a run (VdpTracker.rawNums) and items (rawItems) */
const PAIR_NUMS = 7;
const PAIR_ITEMS = 2;
