/**
 * One call of V8's public embedder API that Node does not give JavaScript:
 * `v8::Isolate::MemoryPressureNotification(kModerate)`, made through koffi on the symbol the
 * node binary exports for native addons (with `Isolate::GetCurrent`, the main thread's isolate).
 *
 * Why: V8 answers it with an *incremental* major GC in memory-reducing mode: marking runs
 * concurrently and in small steps between our callbacks, then the pages with more than a fifth
 * free are compacted and the young generation is shrunk. The other way to collect from
 * JavaScript, `gc()` of --expose-gc, marks the whole heap in one pause (20–40 ms at 10,000
 * VSIs; 40–70 ms with compaction forced, `--compact-on-every-full-gc`) and only compacts the
 * most fragmented pages. Measured with --trace-gc on a station after a 10,000-VSI burst:
 * `Mark-Compact (reduce) 52.6 (58.6) -> 17.6 (39.7) MB, 4.46 ms` plus steps of at most 6 ms.
 *
 * The mangled names are those of the Itanium C++ ABI, which Node uses on Linux. A binary
 * without them (another ABI, symbols stripped) gets `undefined` and the daemon falls back to gc().
 */
import koffi from 'koffi';

/** v8::MemoryPressureLevel */
const MODERATE = 1;
const NONE = 0;

/** ask V8 for an incremental, memory-reducing collection; undefined where the API cannot be reached */
export function v8MemoryPressure(): (() => void) | undefined {
  try {
    const self = koffi.load(null);
    const isolate: unknown = self.func('void *_ZN2v87Isolate10GetCurrentEv()')();
    if (!isolate) return undefined;
    const notify = self.func('void _ZN2v87Isolate26MemoryPressureNotificationENS_19MemoryPressureLevelE(void *, int)');
    return () => {
      // V8 acts on the step from none to moderate and resets its level itself; back to
      // none all the same, so nothing treats memory as tight afterwards
      notify(isolate, MODERATE);
      notify(isolate, NONE);
    };
  } catch {
    return undefined;
  }
}
