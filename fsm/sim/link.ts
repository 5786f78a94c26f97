/**
 * An in-memory Ethernet link between two endpoints on virtual time: frames travel as
 * bytes (what the real codecs produced), with per-direction delay, jitter, loss,
 * duplication and reordering from a seeded PRNG, so every run is reproducible. A tap
 * sees every frame put on the wire (including the ones then lost), with its time.
 */
import type { TimerService } from '../timers.js';

export type Side = 'a' | 'b';

export interface Impairment {
  delayMs: number;
  jitterMs: number;
  /** 0..100 */
  lossPercent: number;
  duplicatePercent: number;
  /** chance that a frame is held back by an extra delay so later frames overtake it */
  reorderPercent: number;
}

export const CLEAN: Impairment = { delayMs: 0.05, jitterMs: 0, lossPercent: 0, duplicatePercent: 0, reorderPercent: 0 };

export interface TapRecord {
  t: number;
  from: Side;
  frame: Uint8Array;
  lost: boolean;
}

export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** mulberry32: [0, 1) */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  percent(p: number): boolean {
    return p > 0 && this.next() * 100 < p;
  }
}

export class SimLink {
  private handlers: Partial<Record<Side, (frame: Uint8Array) => void>> = {};
  private rng: Prng;
  readonly counters = { sent: { a: 0, b: 0 }, delivered: { a: 0, b: 0 }, lost: { a: 0, b: 0 }, duplicated: { a: 0, b: 0 } };
  readonly impair: Record<Side, Impairment>;
  tap: ((r: TapRecord) => void) | undefined;
  up = true;

  constructor(
    private readonly timers: TimerService,
    opts: { seed?: number; a?: Partial<Impairment>; b?: Partial<Impairment> } = {},
  ) {
    this.rng = new Prng(opts.seed ?? 1);
    this.impair = { a: { ...CLEAN, ...opts.a }, b: { ...CLEAN, ...opts.b } };
  }

  /** what arrives at `side` */
  attach(side: Side, handler: (frame: Uint8Array) => void): void {
    this.handlers[side] = handler;
  }

  /** the sending function for `side` */
  sender(side: Side): (frame: Uint8Array) => void {
    return (frame) => this.send(side, frame);
  }

  setImpairment(from: Side, i: Partial<Impairment>): void {
    this.impair[from] = { ...this.impair[from], ...i };
  }

  private send(from: Side, frame: Uint8Array): void {
    const copy = frame.slice();
    const im = this.impair[from];
    this.counters.sent[from]++;
    const lost = !this.up || this.rng.percent(im.lossPercent);
    this.tap?.({ t: this.timers.now(), from, frame: copy, lost });
    if (lost) {
      this.counters.lost[from]++;
      return;
    }
    const to: Side = from === 'a' ? 'b' : 'a';
    const copies = this.rng.percent(im.duplicatePercent) ? 2 : 1;
    if (copies === 2) this.counters.duplicated[from]++;
    for (let i = 0; i < copies; i++) {
      let d = im.delayMs + this.rng.next() * im.jitterMs + i * 0.01;
      if (this.rng.percent(im.reorderPercent)) d += im.delayMs * 4 + 1;
      this.timers.after(d, () => {
        if (!this.up) return;
        this.counters.delivered[to]++;
        this.handlers[to]?.(copy);
      });
    }
  }
}
