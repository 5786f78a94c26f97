/**
 * Deadlines that are set in the order they fall due: every associated VSI's next keep-alive,
 * one keep-alive period after its last answer. A first-in, first-out queue holds them with
 * one TimerService entry for the whole queue (the earliest deadline) instead of one timer
 * object per VSI.
 *
 * Why: a timer entry per VSI was two objects (the entry and its deadline as a heap number)
 * of the ~14 a settled VSI keeps on the V8 heap; a 10,000-VSI table is compacted in one GC
 * pause after a burst (BENCHMARKS.md, vs-lldpad), whose length grows with the objects it
 * moves. Here a VSI costs three array slots (its item, its deadline unboxed in a double
 * array, a generation number) and an integer in its record.
 *
 * A deadline is replaced or cancelled by bumping the item's generation (`dueGen`): the old
 * slot stays in the queue and is skipped when it comes up. A deadline earlier than the last
 * one queued (the period shrank: EVB renegotiated) is inserted in order, so the queue stays
 * sorted.
 */
import type { TimerHandle, TimerService } from './timers.js';

export interface DueItem {
  /** the generation of the item's current deadline; a queued slot with another one is void */
  dueGen: number;
}

/** deadlines handled per timer callback; the rest on the next (the event loop's slices) */
const BATCH = 32;

export class DueQueue<T extends DueItem> {
  private items: (T | undefined)[] = [];
  private due: number[] = [];
  private gens: number[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly timers: TimerService,
    private readonly onDue: (item: T) => void,
  ) {}

  /** `item` falls due `delayMs` from now; an earlier deadline of it is void */
  schedule(item: T, delayMs: number): void {
    const gen = ++item.dueGen;
    const at = this.timers.now() + Math.max(0, delayMs);
    const n = this.items.length;
    if (n > this.head && this.due[n - 1]! > at) {
      const i = this.firstAfter(at);
      this.items.splice(i, 0, item);
      this.due.splice(i, 0, at);
      this.gens.splice(i, 0, gen);
    } else {
      this.items.push(item);
      this.due.push(at);
      this.gens.push(gen);
    }
    if (at < this.timerAt) this.arm(at);
  }

  /** `item` has no deadline (idempotent) */
  cancel(item: T): void {
    item.dueGen++;
  }

  /** queued slots, void ones included (for tests and leak checks) */
  get slots(): number {
    return this.items.length - this.head;
  }

  /** the index of the first deadline later than `at` (binary search) */
  private firstAfter(at: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.due[mid]! <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private arm(at: number): void {
    this.timers.cancel(this.timer);
    this.timerAt = at;
    this.timer = this.timers.at(at, this.run);
  }

  private readonly run = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.timers.now();
    for (let fired = 0; this.head < this.items.length && this.due[this.head]! <= now && fired < BATCH; ) {
      const i = this.head++;
      const item = this.items[i]!;
      const gen = this.gens[i]!;
      this.items[i] = undefined;
      if (item.dueGen !== gen) continue;
      fired++;
      this.onDue(item); // may schedule again: it appends behind the head
    }
    this.compact();
    if (this.head < this.items.length) this.arm(this.due[this.head]!);
  };

  /** drop the slots before the head once they are most of the arrays */
  private compact(): void {
    const h = this.head;
    if (h === this.items.length) {
      this.items.length = this.due.length = this.gens.length = 0;
      this.head = 0;
      return;
    }
    if (h < 1024 || h * 2 < this.items.length) return;
    this.items = this.items.slice(h);
    this.due = this.due.slice(h);
    this.gens = this.gens.slice(h);
    this.head = 0;
  }
}
