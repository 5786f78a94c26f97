/**
 * EVB in a capture: each side's EVB TLVs (the first and every change), LLDP shutdowns, the
 * operative parameters (fsm/evb-rules.ts `negotiate`/`operativeOf`, i.e. what lldpad runs ECP and
 * VDP with) and the timers they imply; `evb-disagreement` when a side keeps advertising
 * values that do not follow from the peer's TLV it has had time to process.
 */
import { describeEvb, EVB_MODE_NAMES, evbShort } from '../../pdu/describe.js';
import { EVB_MODE_BRIDGE, EVB_MODE_STATION, type EvbTlv } from '../../pdu/types.js';
import { negotiate, operativeOf, type EvbPolicy, type EvbRole } from '../../fsm/evb-rules.js';
import { EVB_DEFAULTS, evbTimerMs, respWaitDelayMs, toutKeepAliveMs, type EvbOperative } from '../../fsm/ulp.js';
import type { LldpEv } from './collect.js';
import type { EvbOperativeView, EvbSection, EvbSide, EvbTimers, Finding } from './types.js';
import { finding, round3 } from './util.js';

export function timersOf(op: EvbOperative): EvbTimers {
  const rka = evbTimerMs(op.rka);
  return {
    ackTimerMs: round3(evbTimerMs(op.rte)),
    resourceWaitDelayMs: round3(evbTimerMs(op.rwd)),
    respWaitDelayMs: round3(respWaitDelayMs(op)),
    reinitKeepAliveMs: round3(rka),
    keepAliveToleranceMs: round3(1.5 * rka),
    toutKeepAliveMs: round3(toutKeepAliveMs(op)),
  };
}

/** The policy a side must have had to transmit `t` (its transmitted exponents are ≥ its local ones). */
function policyOf(t: EvbTlv, role: EvbRole): EvbPolicy {
  return { role, rrreq: t.rrreq, rrcap: t.rrcap, gpid: role === 'station' ? t.sgid : t.bgid, r: t.r, rte: t.rte, rwd: t.rwd, rka: t.rka };
}

const COMPARED: (keyof EvbTlv)[] = ['bgid', 'rrcap', 'rrctr', 'sgid', 'rrreq', 'rrstat', 'r', 'rte', 'rwd', 'rolRwd', 'rka', 'rolRka'];

function tlvKey(t: EvbTlv): string {
  return [t.bgid, t.rrcap, t.rrctr, t.bridgeReserved, t.sgid, t.rrreq, t.rrstat, t.stationReserved, t.r, t.rte, t.evbMode, t.rolRwd, t.rwd, t.rkaReserved, t.rolRka, t.rka].join(',');
}

interface Ref {
  tlv: EvbTlv | undefined;
  frame: number;
  t: number;
}

interface SideState {
  view: EvbSide;
  role: EvbRole;
  /** last EVB TLV ever sent (for the operative values) */
  last: EvbTlv | undefined;
  lastKey: string;
  /** last LLDPDU's EVB TLV (undefined after a shutdown or an LLDPDU without EVB TLV) and the one before */
  live: Ref | undefined;
  prev: Ref | undefined;
  /** time of this side's last (re)start: an EVB TLV echoing "nothing heard from the peer" */
  freshT: number;
  disagreement: string;
  modeReported: boolean;
}

/** A peer's TLV takes this long at least to show in the other side's next TLV (LLDPDUs can cross on the wire). */
const PROCESSING_MARGIN_MS = 50;

function side(role: EvbRole, mac: string | null): SideState {
  return {
    view: { mac, lldpdus: 0, evbTlvs: 0, changes: [], shutdownFrames: [], withoutEvbFrames: [] },
    role,
    last: undefined,
    lastKey: '',
    live: undefined,
    prev: undefined,
    freshT: -Infinity,
    disagreement: '',
    modeReported: false,
  };
}

/** the TLV echoes nothing of the peer: station RRSTAT 3, bridge with an all-zero station status */
function echoesNothing(t: EvbTlv, role: EvbRole): boolean {
  return role === 'station' ? t.rrstat === 3 : !t.sgid && !t.rrreq && t.rrstat === 0 && t.stationReserved === 0;
}

export class EvbTracker {
  private st: SideState;
  private br: SideState;
  private cached: { op: EvbOperative; source: string } | undefined;
  private cachedTimers: EvbTimers | undefined;

  constructor(
    station: string | null,
    bridge: string | null,
    private readonly findings: Finding[],
  ) {
    this.st = side('station', station);
    this.br = side('bridge', bridge);
  }

  /** operative values now: both sides' last TLVs negotiated, else one side's, else lldpad's defaults */
  operative(): { op: EvbOperative; source: string } {
    if (this.cached) return this.cached;
    const s = this.st.last;
    const b = this.br.last;
    let r: { op: EvbOperative; source: string };
    if (s && b) r = { op: operativeOf(negotiate(policyOf(s, 'station'), b)), source: 'negotiated' };
    else if (s) r = { op: operativeOf(s), source: 'station-only' };
    else if (b) r = { op: operativeOf(b), source: 'bridge-only' };
    else r = { op: EVB_DEFAULTS, source: 'defaults' };
    this.cached = r;
    return r;
  }

  /** the timers of the operative values now (the analysis asks for every frame; they change only with an EVB TLV) */
  timers(): EvbTimers {
    return (this.cachedTimers ??= timersOf(this.operative().op));
  }

  onLldp(ev: LldpEv, end: 'station' | 'bridge' | 'other'): void {
    if (end === 'other') return;
    const me = end === 'station' ? this.st : this.br;
    const peer = end === 'station' ? this.br : this.st;
    me.view.lldpdus++;
    if (ev.ttl === 0) {
      me.view.shutdownFrames.push(ev.frame);
      this.setLive(me, undefined, ev);
      return;
    }
    const t = ev.evb;
    if (!t) {
      me.view.withoutEvbFrames.push(ev.frame);
      this.setLive(me, undefined, ev);
      return;
    }
    me.view.evbTlvs++;
    const key = tlvKey(t);
    if (key !== me.lastKey) {
      me.view.changes.push({ frame: ev.frame, timeMs: ev.t, text: evbShort(t), tlv: describeEvb(t) });
      me.lastKey = key;
    }
    const before = me.last;
    me.last = t;
    this.cached = undefined;
    this.cachedTimers = undefined;
    const expectedMode = me.role === 'station' ? EVB_MODE_STATION : EVB_MODE_BRIDGE;
    if (t.evbMode !== expectedMode && !me.modeReported) {
      me.modeReported = true;
      this.findings.push(
        finding('evb-disagreement', 'error', ev.frame, ev.t, `the ${me.role} (${ev.src}) advertises EVB mode "${EVB_MODE_NAMES[t.evbMode]}", expected "${EVB_MODE_NAMES[expectedMode]}": the two sides cannot negotiate`),
      );
    }
    // A (re)started side echoes nothing of its peer: nothing to check until it has heard it.
    const fresh = echoesNothing(t, me.role) && (me.role === 'station' || !before || !echoesNothing(before, me.role));
    if (fresh) {
      me.freshT = ev.t;
      me.disagreement = '';
    } else {
      // the peer's TLV this one must reflect: its latest, unless that is too recent to have been processed
      const ref = peer.live && ev.t - peer.live.t < PROCESSING_MARGIN_MS ? peer.prev : peer.live;
      if (ref?.tlv && ref.t > me.freshT && ev.t - ref.t >= PROCESSING_MARGIN_MS) {
        const want = negotiate(policyOf(t, me.role), ref.tlv);
        const diffs = COMPARED.filter((k) => want[k] !== t[k]).map((k) => `${k} ${String(t[k])} (expected ${String(want[k])})`);
        const sig = diffs.join(', ');
        if (sig && sig !== me.disagreement) {
          this.findings.push(
            finding('evb-disagreement', 'warning', ev.frame, ev.t, `the ${me.role}'s EVB TLV does not follow from the ${peer.role}'s TLV of frame ${ref.frame}: ${sig}`, {
              relatedFrames: [ref.frame],
            }),
          );
        }
        me.disagreement = sig;
      }
    }
    this.setLive(me, t, ev);
  }

  private setLive(me: SideState, t: EvbTlv | undefined, ev: LldpEv): void {
    me.prev = me.live;
    me.live = { tlv: t, frame: ev.frame, t: ev.t };
  }

  finish(): EvbSection {
    for (const [me, peer] of [
      [this.st, this.br],
      [this.br, this.st],
    ] as const) {
      if (peer.view.evbTlvs === 0 || me.view.evbTlvs > 0) continue;
      const first = peer.view.changes[0]!;
      if (me.view.lldpdus - me.view.shutdownFrames.length > 0) {
        this.findings.push(
          finding('evb-disagreement', 'warning', me.view.withoutEvbFrames[0] ?? first.frame, first.timeMs, `the ${peer.role} sends EVB TLVs but the ${me.role}'s LLDPDUs carry none: EVB is not enabled on the ${me.role}`, {
            relatedFrames: [first.frame],
          }),
        );
      } else {
        this.findings.push(finding('evb-disagreement', 'info', first.frame, first.timeMs, `the ${me.role} sends no EVB TLV in this capture (only the ${peer.role}'s are seen)`));
      }
    }
    const { op, source } = this.operative();
    const operative: EvbOperativeView = { r: op.r, rte: op.rte, rwd: op.rwd, rka: op.rka, rr: op.rr, gpid: op.gpid, source };
    return { station: this.st.view, bridge: this.br.view, operative, timers: timersOf(op) };
  }
}
