/** Small helpers shared by the replay modules: rounding, latency statistics, findings with a fixed key order. */
import type { ErrorView, Finding, FindingKind, LatencyStats, Severity } from './types.js';

/** ms rounded to the microsecond (JSON stays stable and readable) */
export function round3(v: number): number {
  const r = Math.round(v * 1000) / 1000;
  return r === 0 ? 0 : r; // -0 === 0: JSON and the goldens want 0
}

export function stats(values: readonly number[]): LatencyStats | null {
  if (values.length === 0) return null;
  // a typed array sorts numerically in native code: no comparator called per comparison
  // (a replay sorts one latency per ECPDU, tens of thousands)
  const s = Float64Array.from(values).sort();
  const rank = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!; // in sorted order, as before
  return { n: s.length, min: round3(s[0]!), p50: round3(rank(0.5)), p95: round3(rank(0.95)), max: round3(s[s.length - 1]!), mean: round3(sum / s.length) };
}

/** the optional details of a finding: every field of Finding but the five every finding has */
export type FindingExtra = Omit<Finding, 'kind' | 'severity' | 'frame' | 'timeMs' | 'message'>;

/** A finding with its keys always in the same order (undefined extras vanish in JSON). */
export function finding(kind: FindingKind, severity: Severity, frame: number | null, timeMs: number, message: string, x: FindingExtra = {}): Finding {
  return {
    kind,
    severity,
    frame,
    timeMs: round3(timeMs),
    message,
    vsiid: x.vsiid,
    direction: x.direction,
    seq: x.seq,
    relatedFrames: x.relatedFrames,
    valueMs: x.valueMs === undefined ? undefined : round3(x.valueMs),
    limitMs: x.limitMs === undefined ? undefined : round3(x.limitMs),
    reason: x.reason,
    keep: x.keep,
    hard: x.hard,
    error: x.error,
  };
}

/** `2.251 ms`, `10.491 s` */
export function fmtMs(v: number): string {
  const a = Math.abs(v);
  if (a >= 1000) return `${(v / 1000).toFixed(3)} s`;
  return `${v.toFixed(3)} ms`;
}

export function errorView(e: { layer: string; code: string; field: string; offset: number; message: string }): ErrorView {
  return { layer: e.layer, code: e.code, field: e.field, offset: e.offset, message: e.message };
}
