/** Percentiles and a 1-2-5 histogram for latency samples (ms). */
import type { Histogram, Percentiles } from './types.js';

const round = (v: number): number => Math.round(v * 1000) / 1000;

/** Nearest-rank percentiles (every value reported is a real sample). */
export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { count: 0, min: null, p50: null, p90: null, p99: null, max: null, mean: null };
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  let sum = 0;
  for (const v of s) sum += v;
  return { count: s.length, min: round(s[0]!), p50: round(at(50)), p90: round(at(90)), p99: round(at(99)), max: round(s[s.length - 1]!), mean: round(sum / s.length) };
}

/** Bucket edges 1-2-5 per decade, from the edge at or below the smallest sample to the first above the largest. */
export function histogram(samples: readonly number[]): Histogram {
  if (samples.length === 0) return { edgesMs: [], counts: [] };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of samples) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  lo = Math.max(lo, 0.001);
  const steps = [1, 2, 5];
  let exp = Math.floor(Math.log10(lo));
  let k = lo >= 5 * 10 ** exp ? 2 : lo >= 2 * 10 ** exp ? 1 : 0;
  const edges: number[] = [];
  for (;;) {
    const e = Number((steps[k]! * 10 ** exp).toPrecision(6));
    edges.push(e);
    if (e > hi || edges.length > 60) break;
    k++;
    if (k === 3) {
      k = 0;
      exp++;
    }
  }
  if (edges.length === 1) edges.push(edges[0]! * 2);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of samples) {
    let i = counts.length - 1;
    while (i > 0 && v < edges[i]!) i--;
    counts[i] = counts[i]! + 1;
  }
  return { edgesMs: edges, counts };
}
