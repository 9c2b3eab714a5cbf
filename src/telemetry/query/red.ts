/**
 * RED metrics (rate, errors, duration) per service and per operation: from a service's own SERVER
 * spans when it is instrumented, else from the mesh proxy in front of it (its metrics).
 */
import type { TelemetryStore } from '../store/telemetry-store.js';
import type { RequiredWindow } from './dependency-map.js';
import { msToNs } from './filters.js';
import { MESH_SCOPE_NAME, meshTraffic, trafficStats, type MeshTraffic } from './mesh-traffic.js';
import { groupLatencies, type GroupLatency, type LatencyStats } from './percentiles.js';

/** RED of one service, or of one operation (span name) of it. */
export interface RedStats extends LatencyStats {
  service: string;
  /** Absent on a per-service line. */
  operation?: string;
  /** Requests per second over the whole window. */
  ratePerSecond: number;
}

/** RED per service and per operation over a window. */
export interface RedReport {
  services: RedStats[];
  operations: RedStats[];
}

// SERVER spans only: the requests a service answered, measured by the service itself. The mesh
// proxy answers for its service too (a SERVER span under scope flotilla.mesh); when the service is
// instrumented, its own SERVER span is the proxy's child and the same request: counted once, its own.
// The last column says whether the span is the mesh's.
const SAMPLES = `SELECT service, name, duration_ns, status = 'ERROR', scope_name = '${MESH_SCOPE_NAME}'
  FROM spans s WHERE kind = 'SERVER' AND start_ns >= @since AND start_ns < @until
    AND NOT (scope_name = '${MESH_SCOPE_NAME}'
      AND EXISTS (SELECT 1 FROM spans c WHERE c.trace_id = s.trace_id AND c.parent_span_id = s.span_id AND c.kind = 'SERVER'))`;

/**
 * RED of the requests in the window, per service and per operation, sorted by name.
 *
 * Which source answers for a service, and why:
 * - A service with SERVER spans of its own in the window is read from its spans, as it always was:
 *   its own spans, plus the proxy's SERVER spans that have no child of its own (requests the proxy
 *   answered itself: a fault, an upstream that never answered). The proxy always exports those,
 *   since it keeps every failed or faulted request's spans, so the errors it answered are all counted.
 *   Its own spans are what its SDK recorded: a service whose SDK follows the sampled flag the mesh
 *   passes on in traceparent records a sample too, and its counts are that sample's.
 * - A service with none (no instrumentation) is read from its proxy's metrics, which count every
 *   request: its proxy's spans are only a sample, and counting them would undercount. Its operations
 *   are named `METHOD route`, as its proxy's spans are, and its percentiles are histogram estimates.
 * A service's lines come from one source or the other, never both: nothing is counted twice.
 */
export function red(store: TelemetryStore, window: RequiredWindow): RedReport {
  const params = { since: msToNs(window.since, 'since'), until: msToNs(window.until, 'until') };
  const seconds = Math.max(window.until - window.since, 1) / 1000;
  const [rows, [services = new Map<string, MeshTraffic>(), operations = new Map<string, MeshTraffic>()]] = store.read((prepare) => [
    prepare(SAMPLES).raw(true).all(params) as unknown[][],
    meshTraffic(prepare, params, [(point) => [point.service], (point) => [point.service, point.operation]]),
  ] as const);
  const instrumented = new Set<string>();
  for (const row of rows) if (!row[4]) instrumented.add(String(row[0]));
  const spanRows = rows.filter((row) => instrumented.has(String(row[0])));
  const line = (service: string, operation: string | undefined, stats: LatencyStats): RedStats => ({
    service,
    ...(operation === undefined ? {} : { operation }),
    ...stats,
    ratePerSecond: stats.calls / seconds,
  });
  const fromSpans = ({ key: [service = '', operation], stats }: GroupLatency): RedStats => line(service, operation, stats);
  const fromMesh = (groups: ReadonlyMap<string, MeshTraffic>): RedStats[] => [...groups.values()]
    .filter((group) => group.calls > 0 && !instrumented.has(group.key[0] ?? ''))
    .map((group) => line(group.key[0] ?? '', group.key[1], trafficStats(group)));
  return {
    // One read of the samples serves both groupings.
    services: [...groupLatencies(spanRows, 1, 2).map(fromSpans), ...fromMesh(services)].sort(compareLines),
    operations: [...groupLatencies(spanRows, 2).map(fromSpans), ...fromMesh(operations)].sort(compareLines),
  };
}

function compareLines(a: RedStats, b: RedStats): number {
  if (a.service !== b.service) return a.service < b.service ? -1 : 1;
  const x = a.operation ?? '';
  const y = b.operation ?? '';
  return x === y ? 0 : x < y ? -1 : 1;
}
