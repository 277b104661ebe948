/** Small statistics for benchmark reports: percentiles of latencies and the median/spread of repeated runs. */

/** Nearest-rank percentile of an ascending-sorted array (q in 0–1). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** (max − min) / median, 0 when fewer than two runs. */
  rel_spread: number;
  runs: number[];
}

/** Median and spread of repeated measurements (non-finite values are left out). */
export function spread(values: readonly (number | null | undefined)[]): Spread | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], rel_spread: median !== 0 && v.length > 1 ? (v[v.length - 1] - v[0]) / median : 0, runs: [...values].filter((x): x is number => typeof x === 'number' && Number.isFinite(x)) };
}

/** a ÷ b, or null when either is missing or b is not positive. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null;
  return a / b;
}
