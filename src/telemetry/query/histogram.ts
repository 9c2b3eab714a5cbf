/**
 * Explicit-bucket histograms merged over many data points, and percentiles estimated from them as
 * Prometheus' histogram_quantile does: find the bucket that holds the rank, then interpolate
 * linearly inside it, as if its samples were spread evenly between its bounds. Two refinements use
 * what OTLP points carry beyond the buckets: the bucket is narrowed to the observed min and max
 * (so one sample, or samples all in one bucket, give values that were measured rather than a
 * bucket edge), and the overflow bucket (past the last bound) ends at the max instead of giving
 * up at the last bound. An estimate is within its bucket: its error is bounded by the bucket's width.
 */

/** The sum of many histogram points: counts per bucket over shared bounds, and the extremes. */
export interface MergedHistogram {
  /** Upper bounds of the buckets but the last (OTLP explicit_bounds); empty before the first point. */
  bounds: number[];
  /** counts[i] is how many fell in (bounds[i-1], bounds[i]]; one more bucket than bounds. */
  counts: number[];
  min: number;
  max: number;
}

/** A histogram with nothing in it yet. */
export function emptyHistogram(): MergedHistogram {
  return { bounds: [], counts: [], min: Infinity, max: -Infinity };
}

const sameBounds = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((bound, i) => bound === b[i]);

/**
 * Adds one point's buckets (and min/max, when it has them) to `into`. Points normally share their
 * bounds; when one does not (a proxy of another version), each of its buckets is added to the
 * bucket of `into` that holds its upper bound, which can only move samples up, never lose them.
 */
export function addBuckets(into: MergedHistogram, bounds: readonly number[], counts: readonly number[], min: number | null, max: number | null): void {
  if (into.counts.length === 0) {
    into.bounds = [...bounds];
    into.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  if (sameBounds(into.bounds, bounds)) {
    for (let i = 0; i < into.counts.length; i++) into.counts[i] = (into.counts[i] ?? 0) + (counts[i] ?? 0);
  } else {
    counts.forEach((count, i) => {
      const upper = bounds[i] ?? Infinity;
      let target = into.bounds.findIndex((bound) => bound >= upper);
      if (target < 0) target = into.bounds.length;
      into.counts[target] = (into.counts[target] ?? 0) + count;
    });
  }
  if (min !== null && min < into.min) into.min = min;
  if (max !== null && max > into.max) into.max = max;
}

/** Adds one measured value (a span's duration, say) to `into`, whose bounds are set. */
export function addValue(into: MergedHistogram, value: number): void {
  let bucket = 0;
  while (bucket < into.bounds.length && value > (into.bounds[bucket] as number)) bucket++;
  into.counts[bucket] = (into.counts[bucket] ?? 0) + 1;
  if (value < into.min) into.min = value;
  if (value > into.max) into.max = value;
}

/** The estimated value at quantile `q` (0 to 1) of `histogram`; NaN when it holds nothing. */
export function histogramQuantile(histogram: MergedHistogram, q: number): number {
  const { bounds, counts, min, max } = histogram;
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let below = 0;
  let bucket = 0;
  // The first bucket whose cumulative count reaches the rank (an empty bucket never holds it).
  while (bucket < counts.length - 1 && ((counts[bucket] ?? 0) === 0 || below + (counts[bucket] ?? 0) < rank)) {
    below += counts[bucket] ?? 0;
    bucket++;
  }
  const count = counts[bucket] ?? 0;
  // Prometheus starts the first bucket at 0 (durations are not negative); min and max narrow the bucket.
  let lower = bucket === 0 ? Math.min(0, bounds[0] ?? 0) : (bounds[bucket - 1] as number);
  let upper = bucket < bounds.length ? (bounds[bucket] as number) : Number.isFinite(max) ? max : lower;
  if (Number.isFinite(min) && min > lower) lower = Math.min(min, upper);
  if (Number.isFinite(max) && max < upper) upper = Math.max(max, lower);
  return count === 0 ? upper : lower + (upper - lower) * Math.min(1, Math.max(0, (rank - below) / count));
}
