// Order statistics for benchmark samples. Medians and percentiles, never means alone: a
// single slow run (a GC pause, a noisy neighbour) must not move the headline figure.

/** Summary of a list of samples (ms unless said otherwise). */
export interface Summary {
  n: number
  median: number
  p90: number
  min: number
  max: number
  mean: number
}

/**
 * The q-quantile (0..1) of samples already sorted ascending, with linear interpolation between
 * closest ranks (the usual "type 7" definition, as in NumPy and R's default). NaN when empty.
 */
function sortedQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q))
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo] as number
  const b = sorted[hi] as number
  return a + (b - a) * (pos - lo)
}

const ascending = (samples: readonly number[]): number[] => [...samples].sort((a, b) => a - b)

/** The q-quantile (0..1) of `samples`, type 7 (see {@link sortedQuantile}). NaN for an empty list. */
export function quantile(samples: readonly number[], q: number): number {
  return sortedQuantile(ascending(samples), q)
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5)
export const p90 = (samples: readonly number[]): number => quantile(samples, 0.9)

/** Rounds to `digits` decimals (figures are reported to 0.1 ms). */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/**
 * Median, p90, min, max and mean of `samples`, rounded to `digits` decimals (0.1 by default).
 * Sorted once, never spread into `Math.min(...xs)`, which throws a RangeError past ~100k
 * arguments (latency samples reach that).
 */
export function summarize(samples: readonly number[], digits = 1): Summary {
  const sorted = ascending(samples)
  const n = sorted.length
  let sum = 0
  for (const x of sorted) sum += x
  return {
    n,
    median: round(sortedQuantile(sorted, 0.5), digits),
    p90: round(sortedQuantile(sorted, 0.9), digits),
    min: round(n ? (sorted[0] as number) : Number.NaN, digits),
    max: round(n ? (sorted[n - 1] as number) : Number.NaN, digits),
    mean: round(n ? sum / n : Number.NaN, digits),
  }
}

/** `median 123.4 ms (p90 150.2, min 110.0, max 170.3, n=15)` */
export function formatSummary(s: Summary, unit = 'ms'): string {
  return `median ${s.median.toFixed(1)} ${unit} (p90 ${s.p90.toFixed(1)}, min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, n=${s.n})`
}
