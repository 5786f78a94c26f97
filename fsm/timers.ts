/**
 * Time for the state machines. Machines never call Date.now() or setTimeout: they get a
 * TimerService. Tests use VirtualTimers (deterministic, advanced by hand); the daemon uses
 * RealTimers. Both keep every deadline in one binary heap, so 100,000 VSIs cost one heap
 * entry each and one Node timer in total (not one setTimeout per VSI).
 */

export interface TimerHandle {
  readonly at: number;
  /** @internal heap index, -1 once fired or cancelled */
  idx: number;
}

export interface TimerService {
  /** milliseconds, monotonic, fractional allowed (ECP ack timers are µs-scale) */
  now(): number;
  /** run `cb` once at absolute time `at` (ms); returns a handle for cancel() */
  at(at: number, cb: () => void): TimerHandle;
  /** run `cb` once after `delayMs` */
  after(delayMs: number, cb: () => void): TimerHandle;
  /**
   * run `fn(arg)` once after `delayMs`: one shared function for many timers (a VSI's
   * keep-alive, say) instead of a closure per timer. `reuse`: a handle of this service that
   * has fired or was cancelled, armed again instead of a new one (the caller must hold no
   * other use for it): a bridge's toutKeepAlive per VSI, restarted by every keep-alive, lives
   * one period, long enough to be promoted, so a new entry each time was old-generation
   * garbage at 10,000 VSIs. (The station keeps its keep-alive deadlines in a DueQueue.)
   */
  afterCall<A>(delayMs: number, fn: (arg: A) => void, arg: A, reuse?: TimerHandle): TimerHandle;
  /** idempotent; a fired or already cancelled handle is ignored */
  cancel(h: TimerHandle | undefined): void;
}

interface Entry extends TimerHandle {
  seq: number;
  cb: ((arg: unknown) => void) | undefined;
  arg: unknown;
}

/** Min-heap ordered by (at, seq): equal deadlines fire in the order they were set. */
class TimerHeap {
  private heap: Entry[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  peek(): Entry | undefined {
    return this.heap[0];
  }

  push(at: number, cb: (arg: never) => void, arg?: unknown, reuse?: TimerHandle): Entry {
    let e: Entry;
    if (reuse !== undefined && reuse.idx < 0) {
      e = reuse as Entry;
      (e as { at: number }).at = at;
      e.cb = cb as (arg: unknown) => void;
      e.arg = arg;
      e.seq = this.seq++;
      e.idx = this.heap.length;
    } else {
      e = { at, cb: cb as (arg: unknown) => void, arg, seq: this.seq++, idx: this.heap.length };
    }
    this.heap.push(e);
    this.up(e.idx);
    return e;
  }

  pop(): Entry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    this.removeAt(0);
    return top;
  }

  remove(e: Entry): void {
    if (e.idx < 0 || this.heap[e.idx] !== e) return;
    this.removeAt(e.idx);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const e = h[i]!;
    const last = h.pop()!;
    e.idx = -1;
    if (i < h.length) {
      h[i] = last;
      last.idx = i;
      this.down(i);
      this.up(last.idx);
    }
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const x = h[a]!;
    const y = h[b]!;
    h[a] = y;
    h[b] = x;
    x.idx = b;
    y.idx = a;
  }
}

/** Deterministic time for tests and replay: nothing happens until advance()/advanceTo(). */
export class VirtualTimers implements TimerService {
  private heap = new TimerHeap();
  private t: number;

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  at(at: number, cb: () => void): TimerHandle {
    return this.heap.push(Math.max(at, this.t), cb);
  }

  after(delayMs: number, cb: () => void): TimerHandle {
    return this.at(this.t + Math.max(0, delayMs), cb);
  }

  afterCall<A>(delayMs: number, fn: (arg: A) => void, arg: A, reuse?: TimerHandle): TimerHandle {
    return this.heap.push(this.t + Math.max(0, delayMs), fn, arg, reuse);
  }

  cancel(h: TimerHandle | undefined): void {
    if (h) this.heap.remove(h as Entry);
  }

  /** pending timers (for tests and leak checks) */
  get pending(): number {
    return this.heap.size;
  }

  /** time of the next timer, or undefined */
  nextDeadline(): number | undefined {
    return this.heap.peek()?.at;
  }

  /** Fire every timer due up to `target` in deadline order, moving `now` along; then set now = target. */
  advanceTo(target: number): void {
    for (;;) {
      const top = this.heap.peek();
      if (!top || top.at > target) break;
      this.heap.pop();
      this.t = Math.max(this.t, top.at);
      const cb = top.cb;
      const arg = top.arg;
      top.cb = top.arg = undefined;
      cb?.(arg);
    }
    this.t = Math.max(this.t, target);
  }

  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  /** Run until no timer is left or `limit` ms of virtual time have passed; returns the time reached. */
  runAll(limit = 24 * 3600_000): number {
    const end = this.t + limit;
    for (;;) {
      const next = this.heap.peek();
      if (!next || next.at > end) break;
      this.advanceTo(next.at);
    }
    return this.t;
  }
}

/** the longest stretch of timer callbacks per event-loop turn (RealTimers) */
const FIRE_SLICE_MS = 5;

/**
 * a timer this late (ms) means the process did not run for a while (stopped, starved, a
 * paused VM): beyond what a busy loop makes (a 10,000-VSI burst delays the loop up to
 * ~50 ms), well within the shortest VDP timeout (toutKeepAlive, ~2 s at RKA 17)
 */
export const LATE_MS = 100;

/**
 * How late the timer `h` fires, in ms (0 on time, and always with VirtualTimers). A timeout
 * that measures a peer's silence (toutKeepAlive, respWaitDelay) and fires more than LATE_MS
 * late has counted time in which this process could not hear: the peer's frames may still
 * be on their way (a paused VM resumes the sender and the wire with us), so such a timeout
 * waits that long once more before it counts.
 */
export function lateBy(t: TimerService, h: TimerHandle | undefined): number {
  return h ? t.now() - h.at : 0;
}

/** `h` just fired: when it was more than LATE_MS late, a timer for `fn(arg)` that much later (else undefined) */
export function againIfLate<A>(t: TimerService, h: TimerHandle | undefined, fn: (arg: A) => void, arg: A): TimerHandle | undefined {
  const late = lateBy(t, h);
  return late > LATE_MS ? t.afterCall(late, fn, arg) : undefined;
}

/**
 * One event-loop turn's time, shared by every source of work in the process (timer expiries,
 * received frames, API lines): each source also keeps its own slice, but three 5 ms slices
 * and their overruns in one turn held the loop for 40-50 ms in a 10,000-VSI burst. The
 * daemon's implementation is src/io/turn-budget.ts.
 */
export interface TurnShare {
  /** a source starts work in this turn (starts the turn's clock if it is the first) */
  begin(): void;
  /** the turn's time is spent: stop after the current item and go on next turn */
  over(): boolean;
  /** a new turn begins (the timers phase runs first in a turn of Node's loop) */
  newTurn(): void;
}

export interface RealTimersOptions {
  /**
   * read the input that has arrived (the daemon: non-blocking polls of its sockets, for a
   * bounded time). Called before timers that fire late: after the process was stopped or
   * starved, Node runs the expired timers before it reads the sockets, so the frames that
   * waited there (keep-alives, answers) would come after the timeouts they should have
   * stopped. On time, nothing is read here.
   */
  inputFirst?: () => void;
  /** the turn's time shared with the other sources of work */
  share?: TurnShare;
}

/**
 * Wall-clock timers on Node's event loop: one setTimeout armed for the earliest deadline.
 * Node's timers have 1 ms resolution; sub-millisecond deadlines (ECP RTE < 7) fire on the
 * next loop turn, which only makes retransmissions a little later than the minimum.
 */
export class RealTimers implements TimerService {
  private heap = new TimerHeap();
  private armed: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private readonly origin = performance.now();
  /** turns that fired late and read the input first */
  lateTurns = 0;
  /** the longest turn of timer callbacks (input read first included), ms: what held the event loop, for ping */
  maxFireMs = 0;

  constructor(private readonly o: RealTimersOptions = {}) {}

  now(): number {
    return performance.now() - this.origin;
  }

  at(at: number, cb: () => void): TimerHandle {
    return this.schedule(at, cb);
  }

  after(delayMs: number, cb: () => void): TimerHandle {
    return this.at(this.now() + Math.max(0, delayMs), cb);
  }

  afterCall<A>(delayMs: number, fn: (arg: A) => void, arg: A, reuse?: TimerHandle): TimerHandle {
    return this.schedule(this.now() + Math.max(0, delayMs), fn, arg, reuse);
  }

  private schedule(at: number, cb: (arg: never) => void, arg?: unknown, reuse?: TimerHandle): TimerHandle {
    const e = this.heap.push(at, cb, arg, reuse);
    if (at < this.armedAt) this.arm();
    return e;
  }

  cancel(h: TimerHandle | undefined): void {
    if (h) this.heap.remove(h as Entry);
  }

  get pending(): number {
    return this.heap.size;
  }

  /** stop the Node timer (daemon shutdown); pending callbacks are dropped */
  close(): void {
    if (this.armed) clearTimeout(this.armed);
    this.armed = undefined;
    this.armedAt = Infinity;
    while (this.heap.pop());
  }

  private arm(): void {
    if (this.armed) clearTimeout(this.armed);
    this.armed = undefined;
    const top = this.heap.peek();
    if (!top) {
      this.armedAt = Infinity;
      return;
    }
    this.armedAt = top.at;
    const delay = Math.max(0, top.at - this.now());
    this.armed = setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    const start = performance.now();
    const share = this.o.share;
    share?.newTurn();
    share?.begin();
    this.armed = undefined;
    this.armedAt = Infinity;
    let now = this.now();
    const first = this.heap.peek();
    if (this.o.inputFirst && first && now - first.at > LATE_MS) {
      // what arrived while the process did not run restarts or cancels timers before they fire
      this.lateTurns++;
      this.o.inputFirst();
      now = this.now();
    }
    // Bound the work per turn so a burst of expiries (10,000 keep-alives due together)
    // cannot block the loop for long: what is left fires on the next turn.
    const t0 = performance.now();
    for (let n = 1; ; n++) {
      if ((n & 7) === 0 && (performance.now() - t0 > FIRE_SLICE_MS || share?.over())) break;
      const top = this.heap.peek();
      if (!top || top.at > now) break;
      this.heap.pop();
      const cb = top.cb;
      const arg = top.arg;
      top.cb = top.arg = undefined;
      cb?.(arg);
    }
    this.arm();
    const took = performance.now() - start;
    if (took > this.maxFireMs) this.maxFireMs = took;
  }
}
