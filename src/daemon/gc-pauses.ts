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
export function gcKind(e: PerformanceEntry): number | undefined {
  return (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
}

export class GcPauses {
  /** the longest pause of each kind, ms */
  readonly maxMs: Record<string, number> = {};
  /** collections seen, of every kind */
  count = 0;
  private obs: PerformanceObserver | undefined;

  start(): void {
    this.obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.count++;
        const kind = KIND[gcKind(e) ?? -1] ?? 'other';
        if (e.duration > (this.maxMs[kind] ?? 0)) this.maxMs[kind] = e.duration;
      }
    });
    this.obs.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.obs?.disconnect();
    this.obs = undefined;
  }
}
