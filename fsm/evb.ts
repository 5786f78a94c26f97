/**
 * EVB TLV negotiation (802.1Qbg, reference §2.3.2/§2.3.3), station and bridge role.
 *
 * `negotiate(policy, received)` is the pure rule lldpad applies on every transmit and
 * receive: echo the peer's status octet, RRSTAT 3 until anything is heard, RRCTR granted
 * when RRREQ && RRCAP, max() of R/RTE/RWD/RKA with ROL set unless the local value is
 * strictly larger. The transmitted values are the operative ones.
 *
 * The xstate machine tracks whether a peer is there: EVB_WAIT_PEER until an EVB TLV from
 * the peer has been processed (vdpd reports `ready` only then — lldpad starts ECP/VDP at
 * once but refuses VDP commands until negotiated), EVB_NEGOTIATED while the neighbour
 * lives; a TTL-0 LLDPDU, ageing out, or an LLDPDU without EVB TLV sends it back to
 * EVB_WAIT_PEER with the local values operative again.
 */
import { assign, createActor, setup } from 'xstate';
import { EVB_MODE_BRIDGE, EVB_MODE_STATION, type EvbTlv } from '../pdu/types.js';
import type { TimerService } from './timers.js';
import type { TransitionSink } from './transitions.js';
import type { EvbOperative } from './ulp.js';

import { localTlv, negotiate, operativeOf, type EvbPolicy, type EvbRole } from './evb-rules.js';

type EvbEvent = { type: 'RX_EVB'; tlv: EvbTlv } | { type: 'RX_NO_EVB' } | { type: 'PEER_GONE'; why: string } | { type: 'SET_POLICY'; policy: EvbPolicy };

interface EvbContext {
  policy: EvbPolicy;
  recv: EvbTlv | undefined;
  tx: EvbTlv;
  reason: string;
}

function evbMachine() {
  return setup({
    types: { context: {} as EvbContext, events: {} as EvbEvent, input: {} as EvbPolicy },
    actions: {
      adoptPeer: assign(({ context, event }) => (event.type === 'RX_EVB' ? { recv: event.tlv, tx: negotiate(context.policy, event.tlv), reason: 'peer-evb-tlv' } : {})),
    },
    guards: {
      peerIsOtherRole: ({ context, event }) => event.type === 'RX_EVB' && event.tlv.evbMode === (context.policy.role === 'station' ? EVB_MODE_BRIDGE : EVB_MODE_STATION),
    },
  }).createMachine({
    id: 'evb',
    context: ({ input }) => ({ policy: input, recv: undefined, tx: localTlv(input), reason: 'init' }),
    initial: 'EVB_WAIT_PEER',
    on: {
      SET_POLICY: {
        actions: assign(({ context, event }) => ({ policy: event.policy, tx: negotiate(event.policy, context.recv), reason: 'local-policy-changed' })),
      },
    },
    states: {
      EVB_WAIT_PEER: {
        on: {
          RX_EVB: [
            {
              guard: 'peerIsOtherRole',
              target: 'EVB_NEGOTIATED',
              actions: 'adoptPeer',
            },
            {
              // a peer in the same role (two stations) cannot negotiate: keep waiting, but record it
              actions: assign({ reason: 'peer-same-role' }),
            },
          ],
        },
      },
      EVB_NEGOTIATED: {
        on: {
          RX_EVB: [
            {
              guard: 'peerIsOtherRole',
              actions: 'adoptPeer',
            },
            {
              target: 'EVB_WAIT_PEER',
              actions: assign(({ context }) => ({ recv: undefined, tx: localTlv(context.policy), reason: 'peer-changed-role' })),
            },
          ],
          RX_NO_EVB: {
            target: 'EVB_WAIT_PEER',
            actions: assign(({ context }) => ({ recv: undefined, tx: localTlv(context.policy), reason: 'peer-stopped-evb' })),
          },
          PEER_GONE: {
            target: 'EVB_WAIT_PEER',
            actions: assign(({ context, event }) => ({ recv: undefined, tx: localTlv(context.policy), reason: event.why })),
          },
        },
      },
    },
  });
}

export interface EvbAgentOptions {
  id: string;
  policy: EvbPolicy;
  timers: TimerService;
  onTransition?: TransitionSink;
  /** operative values changed (pushed to ECP and VDP at once) */
  onOperative?: (op: EvbOperative) => void;
  /** negotiated with a peer or lost it */
  onReady?: (ready: boolean) => void;
  /** the TLV to transmit changed: send an LLDPDU soon */
  onTlvChange?: (tlv: EvbTlv) => void;
  /** the peer restarted without saying goodbye (its echo of our status went back to "nothing heard") */
  onPeerRestart?: () => void;
}

/** the peer's copy of our status octet (station: the station status it echoes; bridge: the bridge status) */
function echoOf(role: EvbRole, recv: EvbTlv): number {
  return role === 'station' ? (recv.sgid ? 8 : 0) | (recv.rrreq ? 4 : 0) : (recv.bgid ? 4 : 0) | (recv.rrcap ? 2 : 0);
}

/** The EVB machine of one port, with change notifications. */
export class EvbAgent {
  private actor;
  private lastOp: string;
  private lastTx: string;
  private lastReady = false;

  constructor(private readonly o: EvbAgentOptions) {
    this.lastOp = JSON.stringify(operativeOf(localTlv(o.policy)));
    this.lastTx = JSON.stringify(localTlv(o.policy));
    this.actor = createActor(evbMachine(), { input: o.policy });
    let prev = 'EVB_WAIT_PEER';
    this.actor.subscribe((s) => {
      const now = String(s.value);
      if (now !== prev) o.onTransition?.({ t: o.timers.now(), machine: 'evb', id: o.id, from: prev, to: now, reason: s.context.reason });
      prev = now;
      this.notify();
    });
    this.actor.start();
  }

  private notify(): void {
    const op = JSON.stringify(this.operative);
    const ready = this.ready;
    // pushed on every change and whenever negotiation completes: when the peer agrees with
    // our config nothing "changes", and ECP/VDP would otherwise keep the standard's defaults
    // (RKA 20: keep-alives every 10.5 s to a bridge that times them out after 2 s)
    if (op !== this.lastOp || (ready && !this.lastReady)) {
      this.lastOp = op;
      this.o.onOperative?.(this.operative);
    }
    const tx = JSON.stringify(this.tlv);
    if (tx !== this.lastTx) {
      this.lastTx = tx;
      this.o.onTlvChange?.(this.tlv);
    }
    if (ready !== this.lastReady) {
      this.lastReady = ready;
      this.o.onReady?.(ready);
    }
  }

  get state(): string {
    return String(this.actor.getSnapshot().value);
  }

  get ready(): boolean {
    return this.state === 'EVB_NEGOTIATED';
  }

  /** the EVB TLV to put into the next LLDPDU */
  get tlv(): EvbTlv {
    return this.actor.getSnapshot().context.tx;
  }

  get received(): EvbTlv | undefined {
    return this.actor.getSnapshot().context.recv;
  }

  get operative(): EvbOperative {
    return operativeOf(this.tlv);
  }

  private lastEcho = 0;

  receive(tlv: EvbTlv | undefined): void {
    // A peer killed and restarted sends no TTL-0 LLDPDU; what gives it away is that it
    // echoes our status as "nothing heard" again after having echoed it.
    if (tlv && this.ready) {
      const echo = echoOf(this.o.policy.role, tlv);
      if (this.lastEcho !== 0 && echo === 0) this.o.onPeerRestart?.();
      this.lastEcho = echo;
    } else if (!tlv) this.lastEcho = 0;
    this.actor.send(tlv ? { type: 'RX_EVB', tlv } : { type: 'RX_NO_EVB' });
    if (tlv && this.ready) this.lastEcho = echoOf(this.o.policy.role, tlv);
  }

  peerGone(why: 'neighbour-ttl-0' | 'neighbour-aged-out' | 'link-down'): void {
    this.lastEcho = 0;
    this.actor.send({ type: 'PEER_GONE', why });
  }

  setPolicy(policy: EvbPolicy): void {
    this.actor.send({ type: 'SET_POLICY', policy });
  }

  stop(): void {
    this.actor.stop();
  }
}
