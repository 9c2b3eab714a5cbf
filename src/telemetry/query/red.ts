/** RED metrics (rate, errors, duration) per service and per operation, from SERVER spans. */
import type { TelemetryStore } from '../store/telemetry-store.js';
import type { RequiredWindow } from './dependency-map.js';
import { msToNs } from './filters.js';
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
const SAMPLES = `SELECT service, name, duration_ns, status = 'ERROR'
  FROM spans s WHERE kind = 'SERVER' AND start_ns >= @since AND start_ns < @until
    AND NOT (scope_name = 'flotilla.mesh'
      AND EXISTS (SELECT 1 FROM spans c WHERE c.trace_id = s.trace_id AND c.parent_span_id = s.span_id AND c.kind = 'SERVER'))`;

/** RED of the requests that started in the window, per service and per operation, sorted by name. */
export function red(store: TelemetryStore, window: RequiredWindow): RedReport {
  const params = { since: msToNs(window.since, 'since'), until: msToNs(window.until, 'until') };
  const seconds = Math.max(window.until - window.since, 1) / 1000;
  // One read of the samples serves both groupings.
  const rows = store.read((prepare) => prepare(SAMPLES).raw(true).all(params) as unknown[][]);
  const line = ({ key: [service = '', operation], stats }: GroupLatency): RedStats => ({
    service,
    ...(operation === undefined ? {} : { operation }),
    ...stats,
    ratePerSecond: stats.calls / seconds,
  });
  return {
    services: groupLatencies(rows, 1, 2).map(line),
    operations: groupLatencies(rows, 2).map(line),
  };
}
