/**
 * ECP per direction (each sender has its own sequence space, stop-and-wait): every ECPDU
 * with its transmissions and ACKs, ack latency against the ack timer, retransmissions
 * (same seq and payload, not yet acked), duplicates (resent after the ACK: the ACK was
 * lost), sequence gaps (anything but +1, a restart at 1, or 0xFFFF → 1/0) and sequence
 * reuse (same seq, different payload: a receiver drops it as a duplicate).
 */
import { detach, type EcpEv, type EcpProto } from './collect.js';
import type { Ends } from './roles.js';
import type { EcpDirection, EcpduView, EcpSection, Finding, LadderEnd } from './types.js';
import { finding, fmtMs, round3, stats } from './util.js';

/** What the VDP tracker asks of the ECPDU that carried a request: whether the peer's ECP has it. */
export interface SentEcpdu {
  /** ACKs received so far */
  readonly ackCount: number;
}

/**
 * An ECPDU as tracked: figures for the usual single transmission and single ACK, lists
 * only for the transmissions and ACKs beyond those. Its view (EcpduView) is made only if
 * it is listed; most are not, and a view with its two lists per ECPDU was a third of what
 * a replay allocated.
 */
interface Ecpdu extends SentEcpdu {
  seq: number;
  /** its first transmission: the payload, and the content text made from it only if the ECPDU is listed; dropped once settled */
  ev: EcpEv | undefined;
  frame: number;
  t: number;
  transmissions: number;
  /** frames of the transmissions after the first */
  moreFrames: number[] | undefined;
  lastTxFrame: number;
  lastTxT: number;
  /** the latest transmission already got its ACK */
  lastTxAcked: boolean;
  ackCount: number;
  firstAckFrame: number;
  firstAckLatency: number;
  /** the ACKs after the first */
  moreAcks: { frame: number; latencyMs: number }[] | undefined;
  lastAckFrame: number;
}

interface Dir {
  view: EcpDirection;
  mac: string;
  proto: EcpProto;
  cur: Ecpdu | undefined;
  /** the earlier ECPDUs an ACK can still reach, oldest first */
  history: Ecpdu[];
  lastSeq: number | undefined;
  lastSeqFrame: number;
  latencies: number[];
}

/** the text of an ECPDU's content (pass.ts), made only for the ECPDUs listed */
export type EcpContent = (ev: EcpEv, from: LadderEnd) => string;

export type ReqOutcome = 'new' | 'retransmission' | 'duplicate';

const HISTORY = 8;

function samePayload(e: Ecpdu, ev: EcpEv): boolean {
  const f = e.ev!;
  const n = f.payloadEnd - f.payloadStart;
  if (ev.payloadEnd - ev.payloadStart !== n) return false;
  const a = f.bytes;
  const b = ev.bytes;
  for (let i = 0; i < n; i++) if (a[f.payloadStart + i] !== b[ev.payloadStart + i]) return false;
  return true;
}

/**
 * An ECPDU is listed with a late ACK when its ACK latency exceeds the ack timer at the end
 * of the capture, but the tracker settles each ECPDU as soon as no ACK can reach it any
 * more (so it keeps only the last few), before that timer is known. It decides with the
 * ack timer of the moment (or `listAbove`, the end-of-capture one when an earlier pass
 * found it) and remembers the latencies its decisions hinged on, so that `listingHolds`
 * can tell at the end whether the end-of-capture timer gives the same list.
 */
export class EcpTracker {
  /** by protocol, then by sender (no key string to build per frame) */
  private dirs: Record<EcpProto, Map<string, Dir>> = { ecp22: new Map(), 'ecp-draft': new Map() };
  /** the largest ACK latency left out as on time, the smallest listed as late */
  private maxOnTime = -Infinity;
  private minLate = Infinity;

  constructor(
    private readonly roles: Ends,
    private readonly findings: Finding[],
    private readonly content: EcpContent,
    /** list every ECPDU (default: only those with a retransmission, duplicate, missing or late ACK) */
    private readonly full = false,
    /** the ack timer to judge late ACKs by, when known in advance */
    private readonly listAbove?: number,
  ) {}

  private name(mac: string, proto: string): string {
    const from = this.roles.endOf(mac);
    const to = from === 'station' ? 'bridge' : from === 'bridge' ? 'station' : '?';
    return `${from === 'other' ? `other(${mac})` : from}->${to}${proto === 'ecp-draft' ? ' (draft ECP)' : ''}`;
  }

  private dir(mac: string, proto: EcpProto): Dir {
    let d = this.dirs[proto].get(mac);
    if (!d) {
      d = {
        view: {
          direction: this.name(mac, proto),
          from: mac,
          protocol: proto,
          ecpdus: 0,
          transmissions: 0,
          retransmissions: 0,
          duplicates: 0,
          acked: 0,
          unacked: 0,
          lateAcks: 0,
          sequenceGaps: 0,
          restarts: 0,
          unexpectedAcks: 0,
          ackLatencyMs: null,
          list: [],
        },
        mac,
        proto,
        cur: undefined,
        history: [],
        lastSeq: undefined,
        lastSeqFrame: 0,
        latencies: [],
      };
      this.dirs[proto].set(mac, d);
    }
    return d;
  }

  onRequest(ev: EcpEv, ackTimerMs: number, maxRetries: number): ReqOutcome {
    const d = this.dir(ev.src, ev.proto);
    d.view.transmissions++;
    const cur = d.cur;
    const dn = d.view.direction;
    if (cur && cur.seq === ev.seq) {
      if (samePayload(cur, ev)) {
        const prevT = cur.lastTxT;
        const n = ++cur.transmissions;
        (cur.moreFrames ??= []).push(ev.frame);
        cur.lastTxFrame = ev.frame;
        cur.lastTxT = ev.t;
        const wasAcked = cur.ackCount > 0;
        cur.lastTxAcked = false;
        if (!wasAcked) {
          d.view.retransmissions++;
          const extra = n > maxRetries + 1 ? ` (more than R+1 = ${maxRetries + 1} transmissions)` : '';
          this.findings.push(
            finding('retransmission', 'warning', ev.frame, ev.t, `${dn} seq ${ev.seq} retransmitted (transmission ${n}, ${fmtMs(ev.t - prevT)} after the previous one, no ACK yet; first sent at frame ${cur.frame})${extra}`, {
              direction: dn,
              seq: ev.seq,
              relatedFrames: [cur.frame],
            }),
          );
          return 'retransmission';
        }
        d.view.duplicates++;
        const ackFrame = cur.lastAckFrame;
        this.findings.push(
          finding('duplicate', 'warning', ev.frame, ev.t, `${dn} seq ${ev.seq} sent again after it was acknowledged at frame ${ackFrame} (that ACK was probably lost; the receiver drops the copy and ACKs again)`, {
            direction: dn,
            seq: ev.seq,
            relatedFrames: [cur.frame, ackFrame],
          }),
        );
        return 'duplicate';
      }
      this.findings.push(
        finding('sequence-reuse', 'warning', ev.frame, ev.t, `${dn} seq ${ev.seq} reused with a different payload (previous ECPDU with this seq: frame ${cur.frame}); a receiver takes it for a duplicate and drops it`, {
          direction: dn,
          seq: ev.seq,
          relatedFrames: [cur.frame],
        }),
      );
    }
    if (cur) this.close(d, cur, ackTimerMs, maxRetries, undefined);
    if (d.lastSeq !== undefined && !(cur && cur.seq === ev.seq)) {
      const ok = d.lastSeq === 0xffff ? ev.seq === 1 || ev.seq === 0 : ev.seq === d.lastSeq + 1;
      if (!ok) {
        if (ev.seq === 1) d.view.restarts++;
        else {
          d.view.sequenceGaps++;
          this.findings.push(
            finding('sequence-gap', 'warning', ev.frame, ev.t, `${dn} sequence jumps from ${d.lastSeq} (frame ${d.lastSeqFrame}) to ${ev.seq}`, {
              direction: dn,
              seq: ev.seq,
              relatedFrames: [d.lastSeqFrame],
            }),
          );
        }
      }
    }
    d.lastSeq = ev.seq;
    d.lastSeqFrame = ev.frame;
    d.cur = {
      seq: ev.seq,
      ev,
      frame: ev.frame,
      t: ev.t,
      transmissions: 1,
      moreFrames: undefined,
      lastTxFrame: ev.frame,
      lastTxT: ev.t,
      lastTxAcked: false,
      ackCount: 0,
      firstAckFrame: 0,
      firstAckLatency: 0,
      moreAcks: undefined,
      lastAckFrame: 0,
    };
    d.view.ecpdus++;
    return 'new';
  }

  /** the ECPDU `ev` (which onRequest just took as new): its ACKs are counted as they come */
  sent(ev: EcpEv): SentEcpdu {
    return this.dir(ev.src, ev.proto).cur!;
  }

  /** An ACK from `ev.src` acknowledges the peer's ECPDUs. Returns true when it is late. */
  onAck(ev: EcpEv, ackTimerMs: number): boolean {
    const peer = this.roles.peerOf(ev.src);
    const d = peer ? this.dirs[ev.proto].get(peer) : undefined;
    const who = this.roles.endOf(ev.src);
    const dn = d?.view.direction ?? `?->${who}`;
    const target = d?.cur?.seq === ev.seq ? d.cur : d?.history.find((e) => e.seq === ev.seq);
    if (!d || !target || target.lastTxAcked) {
      if (d) d.view.unexpectedAcks++;
      const why = !d || !target ? 'which this capture does not show being sent' : `whose transmission (frame ${target.lastTxFrame}) was already acknowledged`;
      this.findings.push(finding('unexpected-ack', 'info', ev.frame, ev.t, `${dn} ACK for seq ${ev.seq}, ${why}`, { direction: dn, seq: ev.seq }));
      return false;
    }
    const latency = round3(ev.t - target.lastTxT);
    if (target.ackCount === 0) {
      target.firstAckFrame = ev.frame;
      target.firstAckLatency = latency;
    } else (target.moreAcks ??= []).push({ frame: ev.frame, latencyMs: latency });
    target.ackCount++;
    target.lastAckFrame = ev.frame;
    target.lastTxAcked = true;
    d.latencies.push(latency);
    if (latency > ackTimerMs || target !== d.cur) {
      d.view.lateAcks++;
      const moved = target !== d.cur ? '; the sender had already moved on to the next ECPDU' : '';
      this.findings.push(
        finding('late-ack', 'warning', ev.frame, ev.t, `${dn} ACK for seq ${ev.seq} came ${fmtMs(latency)} after its transmission (frame ${target.lastTxFrame}), later than the ack timer ${fmtMs(ackTimerMs)}${moved}`, {
          direction: dn,
          seq: ev.seq,
          relatedFrames: [target.lastTxFrame],
          valueMs: latency,
          limitMs: ackTimerMs,
        }),
      );
      return true;
    }
    return false;
  }

  private close(d: Dir, e: Ecpdu, ackTimerMs: number, maxRetries: number, endT: number | undefined): void {
    d.history.push(e);
    if (d.history.length > HISTORY) {
      // out of every ACK's reach: its view is final, list it or let it go
      this.settle(d, d.history.shift()!, ackTimerMs);
    }
    if (e.ackCount > 0) {
      d.view.acked++;
      return;
    }
    d.view.unacked++;
    const n = e.transmissions;
    const lastTx = e.lastTxT;
    const dn = d.view.direction;
    if (endT !== undefined && endT - lastTx <= ackTimerMs) {
      this.findings.push(
        finding('missing-ack', 'info', e.frame, e.t, `${dn} seq ${e.seq} (frame ${e.frame}) not acknowledged before the capture ended (${fmtMs(endT - lastTx)} after its last transmission, within the ack timer)`, {
          direction: dn,
          seq: e.seq,
          relatedFrames: e.moreFrames?.slice() ?? [],
        }),
      );
      return;
    }
    const gaveUp = n >= maxRetries + 1 ? `; with R=${maxRetries} that is every attempt: the sender gave up and the ULPDU is lost` : '';
    this.findings.push(
      finding('missing-ack', 'warning', e.frame, e.t, `${dn} seq ${e.seq} (frame ${e.frame}) was never acknowledged after ${n} transmission(s)${gaveUp}`, {
        direction: dn,
        seq: e.seq,
        relatedFrames: e.moreFrames?.slice() ?? [],
      }),
    );
  }

  /** An ECPDU whose view can change no more: listed (with its content) when eventful or in full mode. */
  private settle(d: Dir, e: Ecpdu, ackTimerMs: number): void {
    const ev = e.ev!;
    // a VDP request may still hold the ECPDU (SentEcpdu); the frame it came in is no longer needed
    e.ev = undefined;
    if (!this.full && e.transmissions === 1 && e.ackCount === 1) {
      const latency = e.firstAckLatency;
      if (latency <= (this.listAbove ?? ackTimerMs)) {
        this.maxOnTime = Math.max(this.maxOnTime, latency);
        return;
      }
      this.minLate = Math.min(this.minLate, latency);
    }
    const frames = [e.frame];
    if (e.moreFrames) frames.push(...e.moreFrames);
    const acks = e.ackCount > 0 ? [{ frame: e.firstAckFrame, latencyMs: e.firstAckLatency }] : [];
    if (e.moreAcks) acks.push(...e.moreAcks);
    const view: EcpduView = { seq: e.seq, frame: e.frame, timeMs: e.t, frames, acks, content: this.content(ev, this.roles.endOf(ev.src)) };
    d.view.list.push(view);
  }

  /** the reader is about to overwrite `buffer`: the ECPDUs still kept copy their payload out of it */
  release(buffer: ArrayBufferLike): void {
    for (const dirs of [this.dirs.ecp22, this.dirs['ecp-draft']]) {
      for (const d of dirs.values()) {
        if (d.cur?.ev) detach(d.cur.ev, buffer);
        for (const e of d.history) if (e.ev) detach(e.ev, buffer);
      }
    }
  }

  /** whether the ECPDU lists came out as the end-of-capture ack timer `ackTimerMs` makes them */
  listingHolds(ackTimerMs: number): boolean {
    return this.maxOnTime <= ackTimerMs && this.minLate > ackTimerMs;
  }

  finish(endT: number, ackTimerMs: number, maxRetries: number): EcpSection {
    const order = (d: Dir): string => {
      const e = this.roles.endOf(d.mac);
      return `${e === 'station' ? 0 : e === 'bridge' ? 1 : 2}|${d.mac}|${d.proto}`;
    };
    const dirs = [...this.dirs.ecp22.values(), ...this.dirs['ecp-draft'].values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
    for (const d of dirs) {
      if (d.cur) this.close(d, d.cur, ackTimerMs, maxRetries, endT);
      d.cur = undefined;
      d.view.ackLatencyMs = stats(d.latencies);
      for (const e of d.history) this.settle(d, e, ackTimerMs);
      d.history = [];
    }
    return { directions: dirs.map((d) => d.view) };
  }
}
