/**
 * Resident memory of a long-lived daemon after bursts. Associating 10,000 VSIs at once
 * allocates far more (requests, answers, frames) than the VSI table keeps, and V8 keeps the
 * heap it grew: ~10 KiB of RSS per VSI stays behind although the table needs ~1.5 KiB.
 * Measured in BENCHMARKS.md (vs-lldpad, "RSS growth per VSI"):
 *  - a smaller young generation (`--max-semi-space-size`, in the daemon's Node flags): the
 *    default lets it grow to 3 × 16 MiB, which a burst fills and V8 never returns;
 *  - once a burst is over (many changes, then `quietMs` without any), one full GC and a
 *    malloc_trim (their time on the loop is reported as `lastTrimMs` in ping), so the dead
 *    objects the burst promoted are collected. V8 compacts only its most fragmented pages:
 *    after 10,000 associations old-space pages holding ~20 MiB stay ~40 MiB larger (an
 *    everything-compacting GC got them back but held the loop 50–70 ms: not used);
 *  - between bursts, the same when the heap has doubled since the last trim.
 *  - at most two glibc malloc arenas (DAEMON_ENV). By default glibc gives each thread that
 *    mallocs its own arena, up to 8 per core: V8's compiler and GC helper threads grow
 *    theirs to ~0.5–2.5 MB in a daemon's first burst (its code being compiled) and keep
 *    them, ~8 MB in all, which malloc_trim cannot give back. Measured (10,000 VSIs, fresh
 *    daemons, /proc/PID/smaps 60 s after the burst, 2026-12-01): malloc's maps grew by
 *    8.7–9.4 MB with the default, 6.7–7.5 MB with two arenas (~0.2 KiB less per VSI).
 * Both need Node flags, which V8 reads only at start-up: `vdpd` sets them in its `#!` line
 * (DAEMON_NODE_FLAGS); a daemon started without them simply skips the trim. The arena
 * limit is an environment variable glibc reads at start-up, set on the same line.
 */

/** Node flags the daemon runs with (its `#!` line; the lab starts it with these too). */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2', '--expose-gc'] as const;

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
  gc: GcFn | undefined;
  /**
   * after the GC: hand free native (malloc) memory back to the kernel. A burst grows glibc's
   * arenas too (socket buffers, V8's compiler zones, parser scratch) and glibc keeps what
   * is not at the top of an arena (how much this gives back was not separately measured).
   */
  releaseNative?: () => void;
  /** how long the daemon must see no change before it trims */
  quietMs?: number;
  /** fewer changes than this since the last trim are no burst */
  minChanges?: number;
  /** between bursts: how often to look at the heap (0: never) */
  checkMs?: number;
  /** heap in use, for the check (tests inject it) */
  heapUsed?: () => number;
}

export class MemoryTrim {
  private changes = 0;
  private lastChange = 0;
  private timer: NodeJS.Timeout | undefined;
  /** trims done (reported in counters) */
  trims = 0;

  /** how long the last trim held the event loop, ms */
  lastTrimMs = 0;
  private check: NodeJS.Timeout | undefined;
  /** heap in use right after the last trim: what the VSI table really needs */
  private live = 0;

  constructor(private readonly o: MemoryTrimOptions) {
    // Between bursts the heap creeps up again (keep-alives, a 10,000-row status query) and
    // V8 keeps what it grew: once it holds twice what the last trim left (and 16 MiB more),
    // trim again. At most once per checkMs.
    const every = o.checkMs ?? 30_000;
    if (o.gc && every > 0) {
      this.check = setInterval(() => {
        if (this.timer === undefined && this.live > 0 && this.heapUsed() > 2 * this.live + 16 * 2 ** 20) this.trim();
      }, every);
      this.check.unref();
    }
  }

  private heapUsed(): number {
    return this.o.heapUsed ? this.o.heapUsed() : process.memoryUsage().heapUsed;
  }

  private trim(): void {
    this.changes = 0;
    this.trims++;
    const t0 = performance.now();
    this.o.gc?.();
    this.o.releaseNative?.();
    this.lastTrimMs = performance.now() - t0;
    this.live = this.heapUsed();
  }

  /** a VSI changed (command, answer, end): called for every change, so it only counts */
  note(): void {
    if (!this.o.gc) return;
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
      this.trim();
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.check) clearInterval(this.check);
    this.timer = this.check = undefined;
  }
}
