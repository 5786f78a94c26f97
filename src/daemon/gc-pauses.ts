/**
 * The longest garbage-collection pauses the daemon has had, by kind, for ping: when the
 * event-loop delay max (ping's eventLoopDelayMaxMs) is above its aim, this tells whether a
 * collection was the block. From perf_hooks' 'gc' entries (Node ≥ 16), delivered after the
 * fact from the event loop.
 */
import { constants as perf, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

const KIND: Record<number, string> = {
  [perf.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perf.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perf.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perf.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** a 'gc' entry's kind (perf_hooks NODE_PERFORMANCE_GC_*): its detail is { kind, flags } (Node ≥ 16), which PerformanceEntry types loosely */
function gcKind(e: PerformanceEntry): number | undefined {
  return (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
}

export class GcPauses {
  /** the longest pause of each kind, ms */
  readonly maxMs: Record<string, number> = {};
  /** collections seen, of every kind */
  count = 0;
  private obs: PerformanceObserver | undefined;
  /** called at the end of every major collection (MemoryTrim): one observer serves both */
  private readonly majorListeners = new Set<() => void>();

  start(): void {
    if (this.obs) return;
    this.obs = new PerformanceObserver((list) => {
      let major = false;
      for (const e of list.getEntries()) {
        this.count++;
        const k = gcKind(e);
        if (k === perf.NODE_PERFORMANCE_GC_MAJOR) major = true;
        const kind = KIND[k ?? -1] ?? 'other';
        if (e.duration > (this.maxMs[kind] ?? 0)) this.maxMs[kind] = e.duration;
      }
      if (major) for (const cb of this.majorListeners) cb();
    });
    this.obs.observe({ entryTypes: ['gc'] });
  }

  /** forget the pauses seen so far (the daemon's start-up, its warm-up): ping reports the daemon at work */
  reset(): void {
    for (const k of Object.keys(this.maxMs)) delete this.maxMs[k];
    this.count = 0;
  }

  /** calls `cb` after every major collection (starts observing); returns the unsubscribe */
  onMajor(cb: () => void): () => void {
    this.start();
    this.majorListeners.add(cb);
    return () => this.majorListeners.delete(cb);
  }

  stop(): void {
    this.obs?.disconnect();
    this.obs = undefined;
    this.majorListeners.clear();
  }
}
