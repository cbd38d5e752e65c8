/** Small statistics helpers for the benchmark (numbers in, numbers out). */
import { median as domainMedian, percentile as domainPercentile } from '../shared/domain/report-stats';

/**
 * The p-th percentile (0-100) by nearest rank, or `undefined` for no samples. Failed measurements
 * (NaN) are left out rather than sorted in, where they would corrupt the order.
 */
export function percentile(samples: readonly number[], p: number): number | undefined {
  return domainPercentile(samples.filter(Number.isFinite), p);
}

/** The median (the mean of the middle two for an even count), or `undefined` for no samples. */
export function median(samples: readonly number[]): number | undefined {
  return domainMedian(samples.filter(Number.isFinite));
}

/** Rounds to `digits` decimals, keeping `undefined` (JSON and table friendly). */
export function round(value: number | undefined, digits = 1): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Keeps `digits` significant digits (small per-lead quantities such as GB of logs stay visible). */
export function significant(value: number, digits = 4): number {
  return Number.isFinite(value) ? Number(value.toPrecision(digits)) : 0;
}

/** `a - b` for every key of two counters (missing keys count as 0); zero results are dropped. */
export function diffCounts(
  after: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set([...Object.keys(after), ...Object.keys(before)])) {
    const d = (after[key] ?? 0) - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}

/** Sum of a counter's values. */
export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
