/**
 * ECP22 (802.1Qbg clause 43) transmit and receive state machines for one port, in xstate.
 * State names follow the standard as lldpad's code cites it (reference §3.4/§3.5):
 *   TX: TX_INIT → TX_WAIT_FORREQ → TX_WAIT_ONDATA → TX_TXMIT_ECPDU → (ack) TX_WAIT_FORREQ
 *                                                     (R+1 tries)  → TX_ERROR → TX_WAIT_FORREQ
 *   RX: RX_WAIT → RX_NEW_ECPDU (ACK, deliver) → RX_WAIT, or a duplicate → RX_SEND_ACK (ACK only) → RX_WAIT
 * Unlike lldpad, TX advances as soon as the ACK arrives (lldpad waits for the ack timer, which
 * caps a port at one ECPDU per ackTimer), the last retransmission gets a full ack window, and
 * an abandoned ULPDU is reported to the upper layer. TX_PACE adds an optional gap between
 * exchanges for peers that cannot take back-to-back ECPDUs (lldpad's single VDP input buffer).
 * The machines are defined in xstate and run compiled (MachineRunner, fsm/compiled.ts), not as actors.
 */
import { assign, setup } from 'xstate';
import { CompiledMachine, MachineRunner } from './compiled.js';
import { ECP22_MAX_ULPDU, ECP22_OP_ACK, ECP22_OP_REQUEST, ECP22_SUBTYPE_PECSP, ECP22_SUBTYPE_VDP, ECP22_VERSION, type Ecp22Pdu, type VdpUlpdu } from '../pdu/types.js';
import type { TimerHandle, TimerService } from './timers.js';
import type { TransitionSink } from './transitions.js';
import { evbTimerMs, type EcpLower, type EcpUlp, type UlpduOut } from './ulp.js';

export interface EcpCounters {
  txReq: number;
  txRetransmit: number;
  txAck: number;
  /** ACKs left unsent on purpose (lab fault injection, suppressAck) */
  txAckSuppressed: number;
  rxReq: number;
  rxDuplicate: number;
  rxAck: number;
  rxAckUnexpected: number;
  rxDropped: Record<string, number>;
  abandoned: number;
  delivered: number;
  acked: number;
  peerRestarts: number;
}

export interface EcpOptions {
  /** interface name, for transition records */
  id: string;
  timers: TimerService;
  /** hand an ECPDU to the port for framing and transmission */
  transmit: (pdu: Ecp22Pdu) => void;
  /** max retries R (0..7) and RTE from EVB; updatable with setParams */
  r?: number;
  rte?: number;
  maxUlpdu?: number;
  /** pause between the end of one exchange and the start of the next */
  minGapMs?: number;
  onTransition?: TransitionSink;
  /** the peer's sequence numbers started over at 1: it restarted */
  onPeerRestart?: () => void;
  /** lab fault injection: true = do not acknowledge this received ECPDU (as if the ACK were lost) */
  suppressAck?: (pdu: Ecp22Pdu) => boolean;
}

/** Sequence numbers run 1..0xFFFF and skip 0 on wrap, as lldpad does. */
export function nextSeq(s: number): number {
  return s >= 0xffff ? 1 : s + 1;
}

export interface TxContext {
  seq: number;
  retries: number;
  current: UlpduOut | undefined;
}

export type TxEvent = { type: 'KICK' } | { type: 'ACK'; seq: number } | { type: 'ACK_TIMER' } | { type: 'GAP_DONE' } | { type: 'PORT_DOWN' };

export interface TxDeps {
  pull(): UlpduOut | undefined;
  send(ctx: TxContext): void;
  armAckTimer(): void;
  cancelAckTimer(): void;
  armGap(): boolean;
  delivered(ctx: TxContext): void;
  abandoned(ctx: TxContext, why: 'retries-exhausted' | 'port-down'): void;
  maxRetries(): number;
}

export function txMachine(deps: TxDeps) {
  return setup({
    types: { context: {} as TxContext, events: {} as TxEvent },
    guards: {
      hasData: ({ context }) => context.current !== undefined,
      ackMatches: ({ context, event }) => event.type === 'ACK' && event.seq === context.seq,
      retriesLeft: ({ context }) => context.retries <= deps.maxRetries(),
      gapArmed: () => deps.armGap(),
    },
    actions: {
      transmit: ({ context }) => {
        deps.send(context);
        deps.armAckTimer();
      },
      cancelAckTimer: () => deps.cancelAckTimer(),
      delivered: ({ context }) => deps.delivered(context),
      abandonPortDown: ({ context }) => deps.abandoned(context, 'port-down'),
      abandonRetries: ({ context }) => deps.abandoned(context, 'retries-exhausted'),
    },
  }).createMachine({
    id: 'ecp-tx',
    context: { seq: 0, retries: 0, current: undefined },
    initial: 'TX_INIT',
    states: {
      TX_INIT: { always: 'TX_WAIT_FORREQ' },
      TX_WAIT_FORREQ: {
        entry: assign({ retries: 0, current: undefined, seq: ({ context }) => nextSeq(context.seq) }),
        always: 'TX_WAIT_ONDATA',
      },
      TX_WAIT_ONDATA: {
        // an assign, not a plain action: the `always` guard must find what was pulled in the context
        entry: assign({ current: () => deps.pull() }),
        always: { guard: 'hasData', target: 'TX_TXMIT_ECPDU' },
        on: { KICK: { target: 'TX_WAIT_ONDATA', reenter: true } },
      },
      TX_TXMIT_ECPDU: {
        entry: [
          assign({ retries: ({ context }) => context.retries + 1 }),
          'transmit',
        ],
        on: {
          ACK: { guard: 'ackMatches', target: 'TX_ACKED' },
          ACK_TIMER: [{ guard: 'retriesLeft', target: 'TX_TXMIT_ECPDU', reenter: true }, { target: 'TX_ERROR' }],
          PORT_DOWN: { target: 'TX_INIT', actions: 'abandonPortDown' },
        },
        exit: 'cancelAckTimer',
      },
      TX_ACKED: {
        entry: 'delivered',
        always: [{ guard: 'gapArmed', target: 'TX_PACE' }, { target: 'TX_WAIT_FORREQ' }],
      },
      TX_PACE: { on: { GAP_DONE: 'TX_WAIT_FORREQ', PORT_DOWN: 'TX_INIT' } },
      TX_ERROR: {
        entry: 'abandonRetries',
        always: [{ guard: 'gapArmed', target: 'TX_PACE' }, { target: 'TX_WAIT_FORREQ' }],
      },
    },
  });
}

export interface RxContext {
  lastSeq: number;
  first: boolean;
}

/**
 * The standard's duplicate check remembers only the last delivered sequence number, which
 * is exact for a stop-and-wait peer on a link that keeps order. A reordering link can hand
 * us the late original of a retransmission after the next ECPDU; to deliver it once anyway,
 * numbers delivered within the last `windowMs` (at most 64 back) also count as duplicates.
 * A peer that restarts (sequence back to 1) takes far longer than the window.
 */
export class RecentSeqs {
  private seqs = new Int32Array(64).fill(-1);
  private times = new Float64Array(64);
  private i = 0;
  constructor(private readonly windowMs: () => number) {}
  add(seq: number, t: number): void {
    this.seqs[this.i] = seq;
    this.times[this.i] = t;
    this.i = (this.i + 1) & 63;
  }
  has(seq: number, now: number): boolean {
    const w = this.windowMs();
    for (let k = 0; k < 64; k++) if (this.seqs[k] === seq && now - this.times[k]! <= w) return true;
    return false;
  }
  clear(): void {
    this.seqs.fill(-1);
  }
}
/** `vdp`: the request's ULPDU as the port decoded it, handed to the ULP with it */
export type RxEvent = { type: 'REQ'; pdu: Ecp22Pdu; vdp?: VdpUlpdu } | { type: 'PORT_DOWN' };

export interface RxDeps {
  recentlyDelivered(seq: number): boolean;
  ack(pdu: Ecp22Pdu): void;
  deliver(pdu: Ecp22Pdu, vdp?: VdpUlpdu): void;
  duplicate(pdu: Ecp22Pdu): void;
}

export function rxMachine(deps: RxDeps) {
  return setup({
    types: { context: {} as RxContext, events: {} as RxEvent },
    guards: {
      // single-value window: only a retransmission of the last delivered number is a duplicate
      isDuplicate: ({ context, event }) =>
        event.type === 'REQ' && !context.first && (event.pdu.sequence === context.lastSeq || deps.recentlyDelivered(event.pdu.sequence)),
    },
    actions: {
      // ACK first, so the sender may advance at once, then hand the ULPDU up
      ackAndDeliver: ({ event }) => {
        if (event.type !== 'REQ') return;
        deps.ack(event.pdu);
        deps.deliver(event.pdu, event.vdp);
      },
      ackDuplicate: ({ event }) => {
        if (event.type === 'REQ') deps.duplicate(event.pdu);
      },
    },
  }).createMachine({
    id: 'ecp-rx',
    context: { lastSeq: 0, first: true },
    initial: 'RX_WAIT',
    states: {
      RX_WAIT: {
        on: {
          REQ: [{ guard: 'isDuplicate', target: 'RX_SEND_ACK' }, { target: 'RX_NEW_ECPDU' }],
          PORT_DOWN: { actions: assign({ first: true }) },
        },
      },
      RX_NEW_ECPDU: {
        entry: [
          assign({ lastSeq: ({ event, context }) => (event.type === 'REQ' ? event.pdu.sequence : context.lastSeq), first: false }),
          'ackAndDeliver',
        ],
        always: 'RX_WAIT',
      },
      RX_SEND_ACK: {
        entry: 'ackDuplicate',
        always: 'RX_WAIT',
      },
    },
  });
}

/**
 * One port's ECP: both machines, the ack timer and the counters. Implements EcpLower for
 * the ULP (VDP) attached to it.
 */
export class EcpPort implements EcpLower {
  readonly counters: EcpCounters = {
    txReq: 0,
    txRetransmit: 0,
    txAck: 0,
    txAckSuppressed: 0,
    rxReq: 0,
    rxDuplicate: 0,
    rxAck: 0,
    rxAckUnexpected: 0,
    rxDropped: {},
    abandoned: 0,
    delivered: 0,
    acked: 0,
    peerRestarts: 0,
  };
  private ulp: EcpUlp | undefined;
  private r: number;
  private rte: number;
  private minGapMs: number;
  private ackTimer: TimerHandle | undefined;
  private gapTimer: TimerHandle | undefined;
  private tx!: MachineRunner<ReturnType<typeof txMachine>, TxContext>;
  private rx!: MachineRunner<ReturnType<typeof rxMachine>, RxContext>;
  private up = true;
  readonly maxUlpdu: number;
  /** a retransmission can trail the original by up to (R+1) ack timers; twice that plus slack */
  private recent = new RecentSeqs(() => 2 * (this.r + 1) * this.ackTimerMs + 100);

  constructor(private readonly o: EcpOptions) {
    this.r = o.r ?? 3;
    this.rte = o.rte ?? 8;
    this.minGapMs = o.minGapMs ?? 0;
    this.maxUlpdu = o.maxUlpdu ?? ECP22_MAX_ULPDU;
    this.start();
  }

  private start(): void {
    const o = this.o;
    const sink = o.onTransition;
    const report = (machine: 'ecp-tx' | 'ecp-rx') =>
      sink ? (from: string, to: string) => sink({ t: o.timers.now(), machine, id: o.id, from, to, reason: 'ecp' }) : undefined;
    this.tx = new MachineRunner(
      new CompiledMachine(txMachine({
        pull: () => (this.up && this.ulp ? this.ulp.pull(this.maxUlpdu) : undefined),
        send: (ctx) => {
          if (ctx.retries > 1) this.counters.txRetransmit++;
          else this.counters.txReq++;
          o.transmit({ version: ECP22_VERSION, op: ECP22_OP_REQUEST, subtype: ECP22_SUBTYPE_VDP, sequence: ctx.seq, ulpdu: ctx.current!.ulpdu });
        },
        armAckTimer: () => {
          o.timers.cancel(this.ackTimer);
          this.ackTimer = o.timers.after(this.ackTimerMs, () => {
            this.ackTimer = undefined;
            this.tx.send({ type: 'ACK_TIMER' });
          });
        },
        cancelAckTimer: () => {
          o.timers.cancel(this.ackTimer);
          this.ackTimer = undefined;
        },
        armGap: () => {
          if (this.minGapMs <= 0) return false;
          this.gapTimer = o.timers.after(this.minGapMs, () => {
            this.gapTimer = undefined;
            this.tx.send({ type: 'GAP_DONE' });
          });
          return true;
        },
        delivered: (ctx) => {
          this.counters.acked++;
          if (ctx.current) this.ulp?.delivered(ctx.current.token);
        },
        abandoned: (ctx, why) => {
          if (!ctx.current) return;
          this.counters.abandoned++;
          this.ulp?.abandoned(ctx.current.token, why);
        },
        maxRetries: () => this.r,
      })),
      report('ecp-tx'),
    );
    this.rx = new MachineRunner(
      new CompiledMachine(rxMachine({
        recentlyDelivered: (seq) => this.recent.has(seq, o.timers.now()),
        ack: (pdu) => this.sendAck(pdu),
        deliver: (pdu, vdp) => {
          this.recent.add(pdu.sequence, o.timers.now());
          this.counters.delivered++;
          this.ulp?.receive(pdu.ulpdu, vdp);
        },
        duplicate: (pdu) => {
          this.counters.rxDuplicate++;
          this.sendAck(pdu);
        },
      })),
      report('ecp-rx'),
    );
    this.tx.start();
    this.rx.start();
  }

  get ackTimerMs(): number {
    return evbTimerMs(this.rte);
  }

  get state(): { tx: string; rx: string; seq: number } {
    return { tx: this.tx.value, rx: this.rx.value, seq: this.tx.context.seq };
  }

  attach(ulp: EcpUlp): EcpLower {
    this.ulp = ulp;
    return this;
  }

  /** R and RTE from EVB; take effect from the next transmission. */
  setParams(r: number, rte: number): void {
    this.r = r;
    this.rte = rte;
  }

  setMinGap(ms: number): void {
    this.minGapMs = ms;
  }

  kick(): void {
    if (this.up) this.tx.send({ type: 'KICK' });
  }

  private sendAck(pdu: Ecp22Pdu): void {
    if (this.o.suppressAck?.(pdu)) {
      this.counters.txAckSuppressed++;
      return;
    }
    this.counters.txAck++;
    // the ACK echoes the request's version and subtype (lldpad copies the header word)
    this.o.transmit({ version: pdu.version, op: ECP22_OP_ACK, subtype: pdu.subtype, sequence: pdu.sequence, ulpdu: new Uint8Array(0) });
  }

  private drop(reason: string): void {
    this.counters.rxDropped[reason] = (this.counters.rxDropped[reason] ?? 0) + 1;
  }

  /** A decoded ECP22 PDU from the wire; `vdp`: its ULPDU decoded too (the port's whole-frame decode), for the ULP. */
  receive(pdu: Ecp22Pdu, vdp?: VdpUlpdu): void {
    if (!this.up) return this.drop('port-down');
    if (pdu.version !== ECP22_VERSION) return this.drop('version');
    if (pdu.op === ECP22_OP_ACK) {
      this.counters.rxAck++;
      if (this.tx.value !== 'TX_TXMIT_ECPDU' || this.tx.context.seq !== pdu.sequence) {
        this.counters.rxAckUnexpected++;
        return;
      }
      this.tx.send({ type: 'ACK', seq: pdu.sequence });
      return;
    }
    if (pdu.op !== ECP22_OP_REQUEST) return this.drop('op');
    if (pdu.subtype === ECP22_SUBTYPE_PECSP) return this.drop('subtype-pecsp');
    if (pdu.subtype !== ECP22_SUBTYPE_VDP) return this.drop('subtype');
    this.counters.rxReq++;
    // a peer that restarts begins again at sequence 1 (lldpad does); a wrap goes 0xFFFF → 1
    const rx = this.rx.context;
    if (pdu.sequence === 1 && !rx.first && rx.lastSeq > 1 && rx.lastSeq !== 0xffff) {
      this.counters.peerRestarts++;
      this.o.onPeerRestart?.();
    }
    this.rx.send(vdp ? { type: 'REQ', pdu, vdp } : { type: 'REQ', pdu });
  }

  /** Port disabled: the outstanding ECPDU is abandoned; a new instance starts at sequence 1 on linkUp. */
  linkDown(): void {
    if (!this.up) return;
    // mark down first: the machine's way back through TX_WAIT_ONDATA must not pull more data
    this.up = false;
    this.tx.send({ type: 'PORT_DOWN' });
    this.o.timers.cancel(this.gapTimer);
    this.o.timers.cancel(this.ackTimer);
    this.tx.stop();
    this.rx.stop();
  }

  linkUp(): void {
    if (this.up) return;
    this.up = true;
    this.recent.clear();
    this.start();
    this.kick();
  }

  stop(): void {
    this.o.timers.cancel(this.gapTimer);
    this.o.timers.cancel(this.ackTimer);
    this.tx.stop();
    this.rx.stop();
    this.up = false;
  }
}
