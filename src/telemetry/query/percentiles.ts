/**
 * Count, errors and latency percentiles per group, in one pass over the samples in JavaScript.
 * SQL window functions were tried first: ranking 625,000 samples sorted them by their text group
 * columns and cost 1.4 s of the dependency map's 2 s; grouping here and sorting each group's
 * durations as a Float64Array costs a fraction of that (bench/telemetry-store.mjs).
 *
 * Percentiles are nearest-rank: pN is the smallest duration with at least N% of the group at or
 * below it, i.e. the value at rank ceil(N/100 × n) (1-based) of the ascending durations. It is always
 * a duration that was measured; for one sample, every percentile is that sample.
 */
import { nsToMs } from './filters.js';

/** Calls, errors and latency percentiles of one group, durations in milliseconds. */
export interface LatencyStats {
  calls: number;
  errors: number;
  /** errors / calls, from 0 to 1. */
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/** One group's key columns (as the samples gave them) and its stats. */
export interface GroupLatency {
  key: string[];
  stats: LatencyStats;
}

interface Accumulator {
  key: string[];
  durations: number[];
  errors: number;
}

/** The value at nearest rank ceil(p × n / 100) of ascending `sorted`. */
export function nearestRank(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1] ?? Number.NaN;
}

/**
 * Groups raw sample rows by their first `groupColumns` columns and gives each group's stats,
 * sorted by key. Column `durationColumn` holds the duration in nanoseconds, the next one 1 or 0
 * for an error; columns in between are ignored (a coarser grouping of the same rows).
 */
export function groupLatencies(rows: Iterable<unknown[]>, groupColumns: number, durationColumn = groupColumns): GroupLatency[] {
  const groups = new Map<string, Accumulator>();
  for (const row of rows) {
    const key = row.slice(0, groupColumns).map(String);
    const id = key.join('\0');
    let group = groups.get(id);
    if (!group) {
      group = { key, durations: [], errors: 0 };
      groups.set(id, group);
    }
    group.durations.push(Number(row[durationColumn]));
    if (row[durationColumn + 1]) group.errors++;
  }
  return [...groups.values()]
    .sort((a, b) => compareKeys(a.key, b.key))
    .map(({ key, durations, errors }) => {
      const sorted = Float64Array.from(durations).sort();
      return {
        key,
        stats: {
          calls: sorted.length,
          errors,
          errorRate: errors / sorted.length,
          p50Ms: nsToMs(nearestRank(sorted, 50)),
          p95Ms: nsToMs(nearestRank(sorted, 95)),
          p99Ms: nsToMs(nearestRank(sorted, 99)),
        },
      };
    });
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
