/**
 * The station under the driver's control: an InterfaceRuntime in station role on real
 * time (raw sockets, PortStack, VdpStationEngine), exactly as vdpd runs it, plus
 *  - a FrameTap as its capture hook (frame log, pcap file, wire timings);
 *  - an ECP upper-layer multiplexer in front of the station engine, so conformance tests
 *    can put hand-made VDP requests on the wire that the engine itself refuses to send
 *    (a DeAssoc for an unknown VSI, a reserved VID).
 */
import { encodeVdpEntries } from '../../../pdu/vdp.js';
import type { VdpEntry, VdpUlpdu, VsiMode } from '../../../pdu/types.js';
import type { EcpLower, EcpUlp, UlpduOut } from '../../../fsm/ulp.js';
import { VdpCommandError, vsiKey, type Outcome } from '../../../fsm/vsi.js';
import type { StationRecord } from '../../../fsm/vdp-station-engine.js';
import { uuidToString, toHex } from '../../../pdu/bytes.js';
import type { InterfaceConfig } from '../../config.js';
import { InterfaceRuntime } from '../../daemon/interface.js';
import { linkInfo } from '../../io/packet-socket.js';
import { reactorTimers } from '../../io/reactor.js';
import type { Logger } from '../../log.js';
import { vsiSpecToWire, type VsiSpec } from '../../api/vsi-spec.js';
import { FrameTap } from './tap.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type CmdResult =
  | { kind: 'refused'; code: string; message: string; latencyMs: null; outcome: undefined; record: undefined }
  | { kind: Outcome['kind']; outcome: Outcome; latencyMs: number; record: StationRecord; code?: undefined; message?: undefined };

export interface EndedEvent {
  key: string;
  vsiid: string;
  reason: string;
  t: number;
}

class RawToken {
  constructor(readonly settle: (r: 'delivered' | 'abandoned') => void) {}
}

/** ECP's single upper layer: hand-made ULPDUs first, otherwise the station engine. */
class UlpMux implements EcpUlp {
  private raw: UlpduOut[] = [];
  constructor(private readonly station: EcpUlp) {}
  lower: EcpLower | undefined;

  inject(ulpdu: Uint8Array): Promise<'delivered' | 'abandoned'> {
    return new Promise((resolve) => {
      this.raw.push({ ulpdu, token: new RawToken(resolve) });
      this.lower?.kick();
    });
  }

  pull(maxLen: number): UlpduOut | undefined {
    const r = this.raw[0];
    if (r && r.ulpdu.length <= maxLen) return this.raw.shift();
    return this.station.pull(maxLen);
  }

  delivered(token: unknown): void {
    if (token instanceof RawToken) token.settle('delivered');
    else this.station.delivered(token);
  }

  abandoned(token: unknown, reason: 'retries-exhausted' | 'port-down'): void {
    if (token instanceof RawToken) token.settle('abandoned');
    else this.station.abandoned(token, reason);
  }

  receive(ulpdu: Uint8Array, decoded?: VdpUlpdu): void {
    this.station.receive(ulpdu, decoded);
  }
}

export function vsiLabel(w: { vsiidFormat: number; vsiid: Uint8Array }): string {
  return w.vsiidFormat === 5 ? uuidToString(w.vsiid) : toHex(w.vsiid);
}

export interface LabStationOptions {
  iface: string;
  cfg: InterfaceConfig;
  log: Logger;
  capturePath?: string;
}

export class LabStation {
  readonly timers = reactorTimers();
  readonly rt: InterfaceRuntime;
  readonly tap: FrameTap;
  readonly t0: number;
  readonly ended: EndedEvent[] = [];
  private readonly mux: UlpMux;
  negotiatedAt: number | undefined;

  constructor(o: LabStationOptions) {
    this.t0 = this.timers.now();
    // the tap needs the MAC before the runtime exists (throws UnknownInterfaceError for a bad name)
    this.tap = new FrameTap({ mac: linkInfo(o.iface).mac, now: () => this.timers.now(), ...(o.capturePath !== undefined ? { capturePath: o.capturePath } : {}) });
    this.rt = new InterfaceRuntime(
      o.iface,
      { ...o.cfg, role: 'station' },
      this.timers,
      o.log,
      {
        onTransition: () => undefined,
        onOutcome: () => undefined,
        onEnded: (_iface, rec, reason) => this.ended.push({ key: rec.key, vsiid: vsiLabel(rec.wire), reason, t: this.timers.now() }),
        onChange: () => undefined,
      },
      this.tap,
    );
    this.mux = new UlpMux(this.station);
    this.mux.lower = this.rt.port.attachUlp(this.mux);
  }

  get station() {
    const s = this.rt.station;
    if (!s) throw new Error('not a station');
    return s;
  }

  get mac(): string {
    return this.rt.link.mac;
  }

  start(): void {
    this.rt.start();
  }

  /** ms since the run started */
  elapsed(): number {
    return this.timers.now() - this.t0;
  }

  async waitEvb(timeoutMs: number, onTick?: () => void): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.rt.port.ready) {
        this.negotiatedAt ??= this.timers.now();
        return true;
      }
      onTick?.();
      await sleep(50);
    }
    return false;
  }

  /** Run one command and wait for its outcome; a local refusal is a result too. */
  async command(mode: VsiMode, spec: VsiSpec): Promise<CmdResult> {
    const wire = vsiSpecToWire(spec);
    const key = vsiKey(wire);
    const t = this.timers.now();
    this.tap.beginCommand(key);
    try {
      let started;
      try {
        started = this.station.command(mode, wire, { via: 'lab' });
      } catch (e) {
        if (e instanceof VdpCommandError) return { kind: 'refused', code: e.code, message: e.message, latencyMs: null, outcome: undefined, record: undefined };
        throw e;
      }
      const outcome = await started.outcome;
      return { kind: outcome.kind, outcome, latencyMs: this.timers.now() - t, record: started.record };
    } finally {
      this.tap.endCommand(key);
    }
  }

  /** Put hand-made VDP entries on the wire in one ECPDU (bypassing the engine's checks). */
  inject(entries: VdpEntry[]): Promise<'delivered' | 'abandoned'> {
    return this.mux.inject(encodeVdpEntries(entries));
  }

  private stopped = false;

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.rt.stop();
    this.tap.close();
    this.timers.close();
  }
}
