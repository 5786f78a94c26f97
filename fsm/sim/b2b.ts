/**
 * A station and a bridge back to back in memory: two PortStacks joined by a SimLink
 * (frames cross as bytes through the real codecs), a VdpStationEngine on one side and a
 * VdpBridgeEngine on the other, all on virtual time. Used by the scenario tests, the
 * scale benchmark and the replay tool's self-checks.
 */
import { EVB_DEFAULTS } from '../ulp.js';
import { PortStack } from '../port.js';
import { VirtualTimers } from '../timers.js';
import type { TransitionRecord } from '../transitions.js';
import { VdpBridgeEngine, type BridgePolicy } from '../vdp-bridge-engine.js';
import { VdpStationEngine, type StationEngineOptions } from '../vdp-station-engine.js';
import type { EvbPolicy } from '../evb-rules.js';
import { SimLink, type Impairment, type TapRecord } from './link.js';
import type { VsiWire } from '../vsi.js';
import { uuidToBytes } from '../../pdu/bytes.js';

/** VSI number `i` (1 … 2^48) of a synthetic load: its own VSIID (a UUID) and MAC, VLAN 100 */
export function simVsi(i: number, managerId: Uint8Array): VsiWire {
  const hex = i.toString(16).padStart(12, '0');
  return {
    managerId,
    typeId: 0x123456,
    typeVersion: 1,
    vsiidFormat: 5,
    vsiid: uuidToBytes(`76647000-0000-4000-8000-${hex}`),
    filterFormat: 2,
    filters: [{ mac: `02:${hex.slice(4, 6)}:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}:01`, vid: 100, pcp: 0, ps: false }],
    hints: 0,
  };
}

export const STATION_MAC = '02:76:64:70:00:01';
export const BRIDGE_MAC = '02:76:64:70:00:02';

export interface B2BOptions {
  seed?: number;
  /** impairment of frames sent by the station ('a') and by the bridge ('b') */
  stationToBridge?: Partial<Impairment>;
  bridgeToStation?: Partial<Impairment>;
  station?: Partial<EvbPolicy>;
  bridge?: Partial<EvbPolicy>;
  policy?: BridgePolicy;
  maxVsis?: number;
  stationEngine?: Partial<StationEngineOptions>;
  /** record transitions (tests read them) */
  keepTransitions?: boolean;
  /** record frames */
  keepFrames?: boolean;
  minGapMs?: number;
}

export class BackToBack {
  readonly timers = new VirtualTimers();
  readonly link: SimLink;
  readonly stationPort: PortStack;
  readonly bridgePort: PortStack;
  readonly station: VdpStationEngine;
  readonly bridge: VdpBridgeEngine;
  readonly transitions: TransitionRecord[] = [];
  readonly frames: TapRecord[] = [];

  constructor(o: B2BOptions = {}) {
    const timers = this.timers;
    this.link = new SimLink(timers, { seed: o.seed ?? 1, a: o.stationToBridge ?? {}, b: o.bridgeToStation ?? {} });
    if (o.keepFrames) this.link.tap = (r) => this.frames.push(r);
    const sink = o.keepTransitions === false ? undefined : (r: TransitionRecord) => this.transitions.push(r);
    const d = EVB_DEFAULTS;
    const base = { r: d.r, rte: d.rte, rwd: d.rwd, rka: d.rka, gpid: false };
    this.stationPort = new PortStack({
      ifname: 'st0',
      mac: STATION_MAC,
      timers,
      evb: { role: 'station', rrreq: true, rrcap: false, ...base, ...o.station },
      transmit: this.link.sender('a'),
      minGapMs: o.minGapMs ?? 0,
      ...(sink ? { onTransition: sink } : {}),
      onOperative: (op) => this.station.setOperative(op),
      onReady: (r) => this.station.setReady(r),
      onPeerRestart: () => this.station.peerRestarted(),
    });
    this.bridgePort = new PortStack({
      ifname: 'br0',
      mac: BRIDGE_MAC,
      timers,
      evb: { role: 'bridge', rrreq: false, rrcap: true, ...base, ...o.bridge },
      transmit: this.link.sender('b'),
      ...(sink ? { onTransition: sink } : {}),
      onOperative: (op) => this.bridge.setOperative(op),
    });
    this.station = new VdpStationEngine({ id: 'st0', timers, ...(sink ? { onTransition: sink } : {}), ...o.stationEngine });
    this.bridge = new VdpBridgeEngine({ id: 'br0', timers, ...(o.policy ? { policy: o.policy } : {}), ...(o.maxVsis !== undefined ? { maxVsis: o.maxVsis } : {}), ...(sink ? { onTransition: sink } : {}) });
    this.station.attachLower(this.stationPort.attachUlp(this.station));
    this.bridge.attachLower(this.bridgePort.attachUlp(this.bridge));
    // side a is the station, side b the bridge: what arrives at a goes into the station's port
    this.link.attach('a', (f) => this.stationPort.receiveFrame(f));
    this.link.attach('b', (f) => this.bridgePort.receiveFrame(f));
  }

  /** start both LLDP agents and run until EVB is negotiated on both sides */
  start(): this {
    this.bridgePort.start();
    this.stationPort.start();
    this.runUntil(() => this.stationPort.ready && this.bridgePort.ready, 30_000);
    return this;
  }

  /** advance virtual time until `cond` holds (checked after every timer) or `limitMs` passed */
  runUntil(cond: () => boolean, limitMs = 60_000): boolean {
    const end = this.timers.now() + limitMs;
    while (!cond()) {
      const next = this.timers.nextDeadline();
      if (next === undefined || next > end) {
        this.timers.advanceTo(end);
        return cond();
      }
      this.timers.advanceTo(next);
    }
    return true;
  }

  advance(ms: number): void {
    this.timers.advance(ms);
  }
}
