/**
 * The traffic the mesh proxies counted, from their metrics: every request, where their spans are a
 * sample (a proxy traces a bounded number of traces a second, plus every failed or faulted request).
 * Each proxy sends, per interval (DELTA temporality), per caller, method, route and status: a
 * request count, an error count and a duration histogram in seconds, under its service's resource.
 * A point belongs to a window when its end time does: [since, until).
 */
import type { Prepare } from '../store/telemetry-store.js';
import { addBuckets, addValue, emptyHistogram, histogramQuantile, type MergedHistogram } from './histogram.js';
import type { LatencyStats } from './percentiles.js';

/** The scope the mesh proxies send their spans and metrics under (MESH_SCOPE in src/mesh/http/telemetry/otlp-spans.ts). */
export const MESH_SCOPE_NAME = 'flotilla.mesh';

/** The mesh's metric names (METRIC_NAMES in src/mesh/http/telemetry/otlp-metrics.ts; a unit test holds them equal). */
export const MESH_METRIC_NAMES = {
  requests: 'flotilla.mesh.requests',
  errors: 'flotilla.mesh.errors',
  duration: 'http.server.request.duration',
} as const;

/** The caller or operation of the proxy's overflow series (past its cap on series, attributes are dropped). */
export const OVERFLOW_NAME = '(other)';

/** What a mesh metric point says about whose requests it counts. */
export interface MeshPointKey {
  /** The callee: the proxy's service (the resource's service.name). */
  service: string;
  /** The caller, as the proxy resolved it from its address. */
  caller: string;
  /** `METHOD route`, as the proxy names its SERVER spans. */
  operation: string;
}

/** One group of the mesh's traffic: exact counts and the merged duration histogram (seconds). */
export interface MeshTraffic {
  key: string[];
  calls: number;
  errors: number;
  histogram: MergedHistogram;
}

const POINTS = `SELECT name, service, json_extract(attributes, '$."flotilla.caller"'), json_extract(attributes, '$."http.request.method"'),
    json_extract(attributes, '$."http.route"'), value, min, max, buckets
  FROM metric_points
  WHERE name IN (@requests, @errors, @duration) AND time_ns >= @since AND time_ns < @until
    AND scope_name = '${MESH_SCOPE_NAME}' AND temporality = 'DELTA'`;

type PointRow = [string, string, string | null, string | null, string | null, number | null, number | null, number | null, string | null];

/**
 * The mesh's traffic in [since, until) (epoch nanoseconds), grouped once per grouping (a point's
 * key in that grouping); one map per grouping, by the key joined with NUL. Walks the (name, time) index.
 */
export function meshTraffic(prepare: Prepare, window: { since: bigint; until: bigint }, groupings: readonly ((point: MeshPointKey) => string[])[]): Map<string, MeshTraffic>[] {
  const groups = groupings.map(() => new Map<string, MeshTraffic>());
  const rows = prepare(POINTS).raw(true).iterate({ ...MESH_METRIC_NAMES, ...window }) as Iterable<PointRow>;
  for (const [name, service, caller, method, route, value, min, max, buckets] of rows) {
    const point: MeshPointKey = {
      service,
      caller: caller ?? OVERFLOW_NAME,
      operation: method === null || route === null ? OVERFLOW_NAME : `${method} ${route}`,
    };
    const parsed = name === MESH_METRIC_NAMES.duration ? parseBuckets(buckets) : undefined;
    groupings.forEach((grouping, i) => {
      const key = grouping(point);
      const id = key.join('\0');
      const map = groups[i] as Map<string, MeshTraffic>;
      let group = map.get(id);
      if (!group) map.set(id, (group = { key, calls: 0, errors: 0, histogram: emptyHistogram() }));
      if (name === MESH_METRIC_NAMES.requests) group.calls += value ?? 0;
      else if (name === MESH_METRIC_NAMES.errors) group.errors += value ?? 0;
      else if (parsed) addBuckets(group.histogram, parsed.bounds, parsed.counts, min, max);
    });
  }
  return groups;
}

/** Explicit buckets from a point's JSON; undefined for anything else (there should be nothing else). */
function parseBuckets(json: string | null): { bounds: number[]; counts: number[] } | undefined {
  if (json === null) return undefined;
  const buckets = JSON.parse(json) as { bounds?: unknown; counts?: unknown };
  return Array.isArray(buckets.bounds) && Array.isArray(buckets.counts) ? { bounds: buckets.bounds as number[], counts: buckets.counts as number[] } : undefined;
}

/** Adds one span's call (a duration in nanoseconds) to a group, for calls the mesh did not see. */
export function addCall(group: MeshTraffic, durationNs: number, error: boolean): void {
  group.calls++;
  if (error) group.errors++;
  addValue(group.histogram, durationNs / 1e9);
}

/** A group's counts and its percentiles, estimated from the histogram (histogram.ts), in milliseconds. */
export function trafficStats({ calls, errors, histogram }: MeshTraffic): LatencyStats {
  return {
    calls,
    errors,
    errorRate: calls === 0 ? 0 : errors / calls,
    p50Ms: histogramQuantile(histogram, 0.5) * 1000,
    p95Ms: histogramQuantile(histogram, 0.95) * 1000,
    p99Ms: histogramQuantile(histogram, 0.99) * 1000,
  };
}
