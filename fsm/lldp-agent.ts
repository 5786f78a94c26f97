/**
 * LLDP agent timing for the nearest-customer-bridge agent that carries the EVB TLV, as
 * lldpad runs it: a fast start (LLDPDUs 1 s apart), then every msgTxInterval (30 s); TTL =
 * msgTxInterval × msgTxHold (120 s); an immediate LLDPDU (rate-limited to one per second)
 * when the local EVB TLV changes; a shutdown LLDPDU (TTL 0) on stop. The neighbour is keyed
 * on (Chassis ID, Port ID) and forgotten when its TTL runs out or it sends TTL 0.
 */
import { toHex } from '../pdu/bytes.js';
import type { EvbTlv, Lldpdu, LldpTlv } from '../pdu/types.js';
import { macToBytes } from '../pdu/bytes.js';
import type { TimerHandle, TimerService } from './timers.js';

export interface LldpTiming {
  /** seconds */
  txInterval: number;
  txHold: number;
  fastStartCount: number;
  /** seconds between fast-start LLDPDUs */
  fastInterval?: number;
}

export interface Neighbour {
  chassis: string;
  port: string;
  ttl: number;
  evb: EvbTlv | undefined;
  lastSeen: number;
  expires: number;
}

export interface LldpAgentOptions {
  mac: string;
  timers: TimerService;
  timing: LldpTiming;
  /** current EVB TLV to advertise (undefined: none) */
  evb: () => EvbTlv | undefined;
  transmit: (pdu: Lldpdu) => void;
  onNeighbour: (n: Neighbour | undefined, why: 'update' | 'ttl-0' | 'aged-out') => void;
}

export class LldpAgent {
  private txTimer: TimerHandle | undefined;
  private ageTimer: TimerHandle | undefined;
  private fastLeft: number;
  private lastTx = -Infinity;
  private neighbour: Neighbour | undefined;
  private running = false;
  readonly counters = { tx: 0, rx: 0, rxNoEvb: 0, shutdownTx: 0, agedOut: 0 };

  constructor(private readonly o: LldpAgentOptions) {
    this.fastLeft = o.timing.fastStartCount;
  }

  get current(): Neighbour | undefined {
    return this.neighbour;
  }

  private base(ttl: number): LldpTlv[] {
    const mac = macToBytes(this.o.mac);
    return [
      { kind: 'chassis-id', subtype: 4, id: mac },
      { kind: 'port-id', subtype: 3, id: mac },
      { kind: 'ttl', seconds: ttl },
    ];
  }

  private ttl(): number {
    return Math.min(0xffff, Math.round(this.o.timing.txInterval * this.o.timing.txHold));
  }

  start(): void {
    this.running = true;
    this.fastLeft = this.o.timing.fastStartCount;
    this.send();
  }

  /** Send now (rate-limited to one per second) and reschedule. */
  send(): void {
    if (!this.running) return;
    const t = this.o.timers;
    const now = t.now();
    if (now - this.lastTx < 1000) {
      // too soon: make sure one goes out when the second is over
      const at = this.lastTx + 1000;
      if (!this.txTimer || this.txTimer.at > at) {
        t.cancel(this.txTimer);
        this.txTimer = t.at(at, () => {
          this.txTimer = undefined;
          this.send();
        });
      }
      return;
    }
    this.lastTx = now;
    const evb = this.o.evb();
    this.o.transmit({ tlvs: [...this.base(this.ttl()), ...(evb ? [{ kind: 'evb' as const, ...evb }] : []), { kind: 'end' }] });
    this.counters.tx++;
    t.cancel(this.txTimer);
    const fast = this.fastLeft > 0;
    if (fast) this.fastLeft--;
    const next = fast ? (this.o.timing.fastInterval ?? 1) * 1000 : this.o.timing.txInterval * 1000;
    this.txTimer = t.after(next, () => {
      this.txTimer = undefined;
      this.send();
    });
  }

  /** the local TLV changed: tell the neighbour soon */
  localChange(): void {
    this.send();
  }

  receive(pdu: Lldpdu): void {
    this.counters.rx++;
    let chassis = '';
    let port = '';
    let ttl = 0;
    let evb: EvbTlv | undefined;
    for (const t of pdu.tlvs) {
      if (t.kind === 'chassis-id') chassis = `${t.subtype}:${toHex(t.id)}`;
      else if (t.kind === 'port-id') port = `${t.subtype}:${toHex(t.id)}`;
      else if (t.kind === 'ttl') ttl = t.seconds;
      else if (t.kind === 'evb') evb = t;
    }
    const timers = this.o.timers;
    if (ttl === 0) {
      if (this.neighbour && this.neighbour.chassis === chassis && this.neighbour.port === port) {
        this.forget('ttl-0');
      }
      return;
    }
    if (!evb) this.counters.rxNoEvb++;
    const isNew = !this.neighbour || this.neighbour.chassis !== chassis || this.neighbour.port !== port;
    const now = timers.now();
    this.neighbour = { chassis, port, ttl, evb, lastSeen: now, expires: now + ttl * 1000 };
    timers.cancel(this.ageTimer);
    this.ageTimer = timers.after(ttl * 1000, () => {
      this.ageTimer = undefined;
      this.counters.agedOut++;
      this.forget('aged-out');
    });
    this.o.onNeighbour(this.neighbour, 'update');
    if (isNew) {
      // 802.1AB: a new neighbour starts fast transmission, so it learns our EVB TLV at once
      this.fastLeft = Math.max(this.fastLeft, Math.min(this.o.timing.fastStartCount, 3));
      this.send();
    }
  }

  private forget(why: 'ttl-0' | 'aged-out'): void {
    this.o.timers.cancel(this.ageTimer);
    this.ageTimer = undefined;
    this.neighbour = undefined;
    this.o.onNeighbour(undefined, why);
  }

  /** Stop: a shutdown LLDPDU (TTL 0, no EVB TLV) so the neighbour forgets us at once. */
  stop(sendShutdown = true): void {
    if (this.running && sendShutdown) {
      this.o.transmit({ tlvs: [...this.base(0), { kind: 'end' }] });
      this.counters.shutdownTx++;
    }
    this.running = false;
    this.o.timers.cancel(this.txTimer);
    this.o.timers.cancel(this.ageTimer);
    this.txTimer = this.ageTimer = undefined;
  }

  /**
   * The neighbour is kept through a link flap (it still ages out by its TTL): VDP resumes at
   * once on link-up with the negotiated values instead of waiting up to msgTxInterval for the
   * bridge's next LLDPDU.
   */
  linkDown(): void {
    this.o.timers.cancel(this.txTimer);
    this.txTimer = undefined;
    this.running = false;
  }

  linkUp(): void {
    this.lastTx = -Infinity;
    this.start();
  }
}
