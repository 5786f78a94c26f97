/**
 * Resident memory of a long-lived daemon after bursts. Associating 10,000 VSIs at once
 * allocates far more (requests, answers, frames) than the VSI table keeps, and V8 keeps the
 * heap it grew: ~10 KiB of RSS per VSI stays behind although the table needs ~1.5 KiB.
 * Measured in BENCHMARKS.md (vs-lldpad, "RSS growth per VSI"):
 *  - a smaller young generation (`--max-semi-space-size`, in the daemon's Node flags): the
 *    default lets it grow to 3 × 16 MiB, which a burst fills and V8 never returns;
 *  - once a burst is over (many changes, then `quietMs` without any), one major GC (the
 *    time of the request on the loop is reported as `lastTrimMs` in ping), so the dead
 *    objects the burst promoted are collected. Where V8's embedder API can be
 *    reached (src/io/v8-heap.ts) this is an incremental, memory-reducing collection that
 *    also compacts; otherwise gc(), which marks in one pause and compacts only the most
 *    fragmented pages;
 *  - between bursts (`checkMs`, every 10 s in the daemon), a check every checkMs: the same
 *    collection when the heap has grown by a quarter (and 4 MiB) above what the last major
 *    collection left (V8's or ours), or when V8 holds half as much again as is in use;
 *  - malloc_trim once a collection asked for is done (seen by a perf_hooks 'gc' observer),
 *    on a libuv worker thread, not on the event loop;
 *  - at most two glibc malloc arenas (DAEMON_ENV). By default glibc gives each thread that
 *    mallocs its own arena, up to 8 per core: V8's compiler and GC helper threads grow
 *    theirs to ~0.5–2.5 MB in a daemon's first burst (its code being compiled) and keep
 *    them, ~8 MB in all, which malloc_trim cannot give back. Measured (10,000 VSIs, fresh
 *    daemons, /proc/PID/smaps 60 s after the burst, 2026-12-01): malloc's maps grew by
 *    8.7–9.4 MB with the default, 6.7–7.5 MB with two arenas (~0.2 KiB less per VSI).
 * The young-generation limit and gc() need Node flags, which V8 reads only at start-up:
 * `vdpd` sets them in its `#!` line (DAEMON_NODE_FLAGS); a daemon with neither gc() nor the
 * embedder API simply skips the trim. The arena
 * limit is an environment variable glibc reads at start-up, set on the same line.
 */

import { GcPauses } from './gc-pauses.js';
import { getHeapStatistics } from 'node:v8';

/**
 * Node flags the daemon runs with (its `#!` line; the lab starts it with these too). One is
 * not about memory: `--no-turbo-inlining`. A fresh daemon's first burst (a host's boot, a
 * restart re-associating its state file) is also when V8 optimises its hot code, on the
 * same cores as the burst; without inlining each optimising compilation is a fraction of
 * the work. Fresh 10,000-VSI bursts vdpd ↔ vdpd (both daemons with the flag or without it,
 * five pairs in turn, 2026-12-02): 780–961 ms against 916–1,109, each pair won, station CPU
 * ~150–220 ms less; in service and in the 60 s of keep-alives after, within the noise
 * (BENCHMARKS.md, vs-lldpad).
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2', '--expose-gc', '--no-turbo-inlining'] as const;

/** Environment the daemon runs with (its `#!` line; the lab starts it with this too, unless the caller's environment sets it). */
export const DAEMON_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/**
 * V8's gc() called without arguments: a full, synchronous collection. (Node 20's V8 also
 * accepts an options object, `{ type: 'major', … }`, and then does nothing at all:
 * test/unit/memory.test.ts runs the real one.)
 */
type GcFn = () => void;

/** `gc` when Node was started with --expose-gc */
export function exposedGc(): GcFn | undefined {
  const g = (globalThis as { gc?: GcFn }).gc;
  return typeof g === 'function' ? g : undefined;
}

export interface MemoryTrimOptions {
  /** a full, atomic collection (gc() of --expose-gc): used where `reduce` cannot be had */
  gc: GcFn | undefined;
  /**
   * ask V8 for an incremental, memory-reducing collection (src/io/v8-heap.ts): preferred. It
   * returns at once; the collection runs over the next tens of milliseconds.
   */
  reduce?: () => void;
  /**
   * hand free native (malloc) memory back to the kernel. A burst grows glibc's arenas too
   * (socket buffers, V8's compiler zones, parser scratch), and traffic afterwards dirties
   * free pages again: 60 s after a 10,000-VSI burst, one more malloc_trim gave back ~2 MB.
   * May return a promise (the daemon runs malloc_trim on a worker thread).
   */
  releaseNative?: () => Promise<void> | void;
  /** how long the daemon must see no change before it trims */
  quietMs?: number;
  /** fewer changes than this since the last trim are no burst */
  minChanges?: number;
  /** between bursts: how often to look at the heap (0, the default: never) */
  checkMs?: number;
  /** heap in use (tests inject it) */
  heapUsed?: () => number;
  /** heap V8 holds, in use or not (tests inject it) */
  heapTotal?: () => number;
  /**
   * calls back at the end of every major collection, V8's own or one asked for; returns the
   * unsubscribe. Default: a perf_hooks 'gc' observer. Tests inject it.
   */
  onMajorGc?: (cb: () => void) => () => void;
  /** a requested collection that V8 has not finished after this long is taken as done */
  gcWaitMs?: number;
}

/** between bursts, the heap may hold this much more than its floor before a collection */
const GROWTH = 1.25;
const SLACK = 4 * 2 ** 20;
/** between bursts, the heap V8 holds may be this much more than the heap in use (and SLACK) before a compacting collection */
const SPARSE = 1.5;
const SPARSE_TRIMS = 2;

/** the ends of major collections, as perf_hooks reports them (after the collection, from the loop); the daemon shares its GcPauses' observer instead */
export function observeMajorGc(cb: () => void): () => void {
  const pauses = new GcPauses();
  pauses.onMajor(cb);
  return () => pauses.stop();
}

export class MemoryTrim {
  private changes = 0;
  private lastChange = 0;
  private timer: NodeJS.Timeout | undefined;
  /** collections asked for: at the ends of bursts and when the heap grew between them (counters) */
  trims = 0;
  /** how long the last collection request held the event loop, ms */
  lastTrimMs = 0;
  /** how long the last malloc_trim took (on a worker thread in the daemon), ms */
  lastNativeMs = 0;
  /** native releases done (after collections asked for) */
  nativeReleases = 0;
  /** collections asked for whose end was not seen within gcWaitMs (the release went ahead without it) */
  gcWaitTimeouts = 0;
  private check: NodeJS.Timeout | undefined;
  /** heap in use after the last major collection: what the daemon's tables need (0: none seen yet) */
  private floor = 0;
  /** collections asked for because the heap was sparse, since it last grew (a burst, or the growth check) */
  private sparseTrims = 0;
  /** a collection asked for and not yet seen to end: its end releases native memory */
  private waiting: NodeJS.Timeout | undefined;
  private releasing = false;
  /** callers of collectNow waiting for the next native release to finish */
  private afterRelease: (() => void)[] = [];
  private readonly unobserve: (() => void) | undefined;

  constructor(private readonly o: MemoryTrimOptions) {
    // Between bursts the old generation fills up again: with 10,000 VSIs, keep-alive traffic
    // promoted ~0.4 MB/s of short-lived objects (timers, answers, contexts) that V8 collected
    // only when the old generation reached its limit, so RSS a minute after a burst swung by
    // ±10 MB with the moment it was read. A check every checkMs reads one number and asks
    // for a collection once the heap has grown by a quarter (and 4 MiB) above its floor.
    // The floor is read when a major collection ends, not at a check: `reduce` returns before
    // its collection has run. Off unless asked for; the daemon asks for it every 10 s (without
    // it, RSS 60 s after a 10,000-VSI burst was 3.3–3.4 KiB per VSI in the bench, aim 2).
    // The observer stays on either way: a burst's release waits for its collection's end.
    if (!this.collector()) return;
    this.unobserve = (o.onMajorGc ?? observeMajorGc)(() => this.majorGcEnded());
    const every = o.checkMs ?? 0;
    if (every > 0) {
      this.check = setInterval(() => this.tick(), every);
      this.check.unref();
    }
  }

  private collector(): GcFn | undefined {
    return this.o.reduce ?? this.o.gc;
  }

  private heapUsed(): number {
    return this.o.heapUsed ? this.o.heapUsed() : getHeapStatistics().used_heap_size;
  }

  private majorGcEnded(): void {
    this.floor = this.heapUsed();
    if (this.waiting !== undefined) {
      clearTimeout(this.waiting);
      this.waiting = undefined;
      this.release();
    }
  }

  private tick(): void {
    if (this.timer !== undefined || this.waiting !== undefined) return; // a burst is on (its end collects), or a collection
    const used = this.heapUsed();
    if (this.floor === 0) return; // no major collection seen yet: nothing to compare with
    if (used > GROWTH * this.floor + SLACK) {
      this.sparseTrims = 0;
      return this.trim();
    }
    // A heap V8 keeps far larger than what is in use: the pages a burst (or the warm-up) grew
    // are half empty, and one memory-reducing collection compacts only the sparsest of them.
    // Measured 60 s after a 10,000-VSI burst with the warm-up (BENCHMARKS.md): 24 MB in use of
    // 43 MB without this, of 32 MB with it. Twice at most until the heap grows again (a burst
    // or the check above), so a heap V8 keeps large for its own reasons costs nothing more.
    if (this.sparseTrims < SPARSE_TRIMS && this.heapTotal() > SPARSE * used + SLACK) {
      this.sparseTrims++;
      this.trim();
    }
  }

  private heapTotal(): number {
    return this.o.heapTotal ? this.o.heapTotal() : getHeapStatistics().total_heap_size;
  }

  private trim(): void {
    this.changes = 0;
    this.trims++;
    const t0 = performance.now();
    this.collector()?.();
    this.lastTrimMs = performance.now() - t0;
    if (this.o.reduce === undefined) return this.release(); // gc() is done when it returns
    // malloc_trim once V8 has freed what it will (the memory its collection gives back
    // includes malloc'ed backing stores of dead buffers)
    this.waiting = setTimeout(() => {
      this.waiting = undefined;
      this.gcWaitTimeouts++;
      this.release();
    }, this.o.gcWaitMs ?? 5000);
    this.waiting.unref();
  }

  private release(): void {
    const r = this.o.releaseNative;
    if (!r) return this.released();
    if (this.releasing) return; // its end answers collectNow's callers too
    this.releasing = true;
    const t0 = performance.now();
    const done = () => {
      this.releasing = false;
      this.nativeReleases++;
      this.lastNativeMs = performance.now() - t0;
      this.released();
    };
    const p = r();
    if (p) void p.then(done, done);
    else done();
  }

  private released(): void {
    const waiting = this.afterRelease;
    this.afterRelease = [];
    for (const done of waiting) done();
  }

  /**
   * The collection a burst's end asks for, now (the daemon after its start-up warm-up):
   * resolves once native memory has been released after it, or once the wait for the
   * collection's end ran out (gcWaitMs); at once without a collector.
   */
  collectNow(): Promise<void> {
    if (!this.collector()) return Promise.resolve();
    return new Promise((done) => {
      this.afterRelease.push(done);
      this.trim();
    });
  }

  /** a VSI changed (command, answer, end): called for every change, so it only counts */
  note(): void {
    if (!this.collector()) return;
    this.changes++;
    this.lastChange = performance.now();
    if (this.timer === undefined && this.changes >= (this.o.minChanges ?? 500)) this.arm(this.o.quietMs ?? 2000);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const quiet = this.o.quietMs ?? 2000;
      const since = performance.now() - this.lastChange;
      if (since < quiet) return this.arm(quiet - since);
      this.sparseTrims = 0; // a burst grew the heap: its pages may be sparse again
      this.trim();
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.check) clearInterval(this.check);
    if (this.waiting) clearTimeout(this.waiting);
    this.unobserve?.();
    this.timer = this.check = this.waiting = undefined;
  }
}
