/**
 * One interface's protocol stack below VDP: LLDP agent + EVB negotiation + ECP, fed with
 * and producing Ethernet frame bytes. The daemon plugs raw sockets into it, the tests a
 * SimLink; VDP attaches as the ECP upper layer. Malformed frames are counted and reported,
 * never thrown.
 */
import { PduError } from '../pdu/errors.js';
import { encodeEcp22 } from '../pdu/ecp.js';
import { encodeEthernet } from '../pdu/ethernet.js';
import { tryDecodeFrame } from '../pdu/frame.js';
import { encodeLldpdu } from '../pdu/lldp.js';
import { ETH_P_ECP22, ETH_P_LLDP, MAC_NEAREST_CUSTOMER_BRIDGE, type DecodedFrame, type Ecp22Pdu, type Lldpdu } from '../pdu/types.js';
import { EcpPort, type EcpCounters } from './ecp.js';
import { EvbAgent } from './evb.js';
import type { EvbPolicy } from './evb-rules.js';
import { LldpAgent, type LldpTiming, type Neighbour } from './lldp-agent.js';
import type { TimerService } from './timers.js';
import type { TransitionSink } from './transitions.js';
import type { EcpLower, EcpUlp, EvbOperative } from './ulp.js';

export interface PortOptions {
  ifname: string;
  mac: string;
  timers: TimerService;
  evb: EvbPolicy;
  lldp?: LldpTiming;
  /** destination of LLDP and ECP frames (default nearest customer bridge) */
  groupAddress?: string;
  minGapMs?: number;
  transmit: (frame: Uint8Array) => void;
  onTransition?: TransitionSink;
  onOperative?: (op: EvbOperative) => void;
  onReady?: (ready: boolean) => void;
  /** the peer restarted (VDP should re-send every VSI once the peer is ready) */
  onPeerRestart?: () => void;
  onNeighbour?: (n: Neighbour | undefined, why: string) => void;
  /** a frame that could not be decoded or was not for us */
  onDrop?: (reason: string, err?: PduError) => void;
  /** every frame in and out, e.g. for pcap recording */
  onFrame?: (dir: 'rx' | 'tx', frame: Uint8Array) => void;
  /** lab fault injection: leave the ACK for this received ECPDU unsent */
  suppressAck?: (pdu: Ecp22Pdu) => boolean;
}

export interface PortCounters {
  rxFrames: number;
  txFrames: number;
  rxLldp: number;
  rxEcp: number;
  rxMalformed: number;
  rxIgnored: Record<string, number>;
}

export class PortStack {
  readonly evb: EvbAgent;
  readonly lldp: LldpAgent;
  readonly ecp: EcpPort;
  readonly counters: PortCounters = { rxFrames: 0, txFrames: 0, rxLldp: 0, rxEcp: 0, rxMalformed: 0, rxIgnored: {} };
  private group: string;
  /** source MAC of the current LLDP neighbour (the adjacent bridge / station) */
  private peerMac: string | undefined;
  private rxSrc: string | undefined;
  private up = true;
  private started = false;

  constructor(private readonly o: PortOptions) {
    this.group = o.groupAddress ?? MAC_NEAREST_CUSTOMER_BRIDGE;
    this.evb = new EvbAgent({
      id: o.ifname,
      policy: o.evb,
      timers: o.timers,
      ...(o.onTransition ? { onTransition: o.onTransition } : {}),
      onOperative: (op) => {
        this.ecp.setParams(op.r, op.rte);
        o.onOperative?.(op);
      },
      onReady: (r) => o.onReady?.(r),
      onTlvChange: () => this.lldp.localChange(),
      onPeerRestart: () => this.peerRestart('evb-echo-reset'),
    });
    this.lldp = new LldpAgent({
      mac: o.mac,
      timers: o.timers,
      timing: o.lldp ?? { txInterval: 30, txHold: 4, fastStartCount: 7 },
      evb: () => this.evb.tlv,
      transmit: (pdu) => this.sendLldp(pdu),
      onNeighbour: (n, why) => {
        // the neighbour is whoever sent the LLDPDU being processed; frames from others are not ours
        this.peerMac = n ? this.rxSrc : undefined;
        if (n) this.evb.receive(n.evb);
        else this.evb.peerGone(why === 'ttl-0' ? 'neighbour-ttl-0' : 'neighbour-aged-out');
        o.onNeighbour?.(n, why);
      },
    });
    const op = this.evb.operative;
    this.ecp = new EcpPort({
      id: o.ifname,
      timers: o.timers,
      r: op.r,
      rte: op.rte,
      minGapMs: o.minGapMs ?? 0,
      transmit: (pdu) => this.sendEcp(pdu),
      ...(o.onTransition ? { onTransition: o.onTransition } : {}),
      onPeerRestart: () => this.peerRestart('ecp-sequence-restarted'),
      ...(o.suppressAck ? { suppressAck: o.suppressAck } : {}),
    });
  }

  private lastRestart = -Infinity;

  /** EVB echo reset or ECP sequence back at 1: tell VDP once (both signs come close together) */
  private peerRestart(why: string): void {
    const now = this.o.timers.now();
    if (now - this.lastRestart < 5000) return;
    this.lastRestart = now;
    this.o.onTransition?.({ t: now, machine: 'evb', id: this.o.ifname, from: this.evb.state, to: this.evb.state, reason: `peer-restarted(${why})` });
    this.lldp.localChange();
    this.o.onPeerRestart?.();
  }

  get ready(): boolean {
    return this.evb.ready;
  }

  get operative(): EvbOperative {
    return this.evb.operative;
  }

  get ecpCounters(): EcpCounters {
    return this.ecp.counters;
  }

  attachUlp(ulp: EcpUlp): EcpLower {
    return this.ecp.attach(ulp);
  }

  start(): void {
    this.started = true;
    this.lldp.start();
  }

  /** TTL-0 LLDPDU, timers stopped */
  stop(): void {
    this.lldp.stop(this.up);
    this.ecp.stop();
    this.evb.stop();
    this.started = false;
  }

  linkDown(): void {
    if (!this.up) return;
    this.up = false;
    this.lldp.linkDown();
    this.ecp.linkDown();
  }

  linkUp(): void {
    if (this.up) return;
    this.up = true;
    this.ecp.linkUp();
    if (this.started) this.lldp.linkUp();
  }

  private out(frame: Uint8Array): void {
    if (!this.up) return;
    this.counters.txFrames++;
    this.o.onFrame?.('tx', frame);
    this.o.transmit(frame);
  }

  private sendLldp(pdu: Lldpdu): void {
    this.out(encodeEthernet({ dst: this.group, src: this.o.mac, ethertype: ETH_P_LLDP }, encodeLldpdu(pdu)));
  }

  private sendEcp(pdu: Ecp22Pdu): void {
    this.out(encodeEthernet({ dst: this.group, src: this.o.mac, ethertype: ETH_P_ECP22 }, encodeEcp22(pdu)));
  }

  private ignore(reason: string): void {
    this.counters.rxIgnored[reason] = (this.counters.rxIgnored[reason] ?? 0) + 1;
    this.o.onDrop?.(reason);
  }

  receiveFrame(frame: Uint8Array): void {
    this.counters.rxFrames++;
    if (!this.up) return this.ignore('link-down');
    this.o.onFrame?.('rx', frame);
    const f: DecodedFrame | PduError = tryDecodeFrame(frame);
    if (f instanceof PduError) {
      this.counters.rxMalformed++;
      this.o.onDrop?.('malformed', f);
      return;
    }
    if (f.eth.src === this.o.mac) return this.ignore('own-frame');
    // once a neighbour is known, LLDP and ECP from any other source are not from the adjacent peer
    if (this.peerMac !== undefined && f.eth.src !== this.peerMac && (f.kind === 'lldp' || f.kind === 'ecp22')) return this.ignore('not-adjacent-peer');
    if (f.kind === 'lldp') {
      // LLDP only on the agent's group address (or to us)
      if (f.eth.dst !== this.group && f.eth.dst !== this.o.mac) return this.ignore('lldp-other-agent');
      this.counters.rxLldp++;
      this.rxSrc = f.eth.src;
      this.lldp.receive(f.lldpdu);
      return;
    }
    if (f.kind === 'ecp22') {
      // ECP22 is accepted on any destination, as lldpad does
      this.counters.rxEcp++;
      this.ecp.receive(f.ecp, f.vdp);
      return;
    }
    this.ignore(f.kind === 'ecp-draft' ? 'ecp-draft' : 'ethertype');
  }
}
