/** Impact of a service: the user-facing entry points whose requests go through it. */
import type { TelemetryStore } from '../store/telemetry-store.js';
import type { RequiredWindow } from './dependency-map.js';
import { msToNs } from './filters.js';

/** One entry point (a root operation) and the traces through the service that started there. */
export interface EntryPointImpact {
  /** The service and span name of the root span (a span with no parent). */
  service: string;
  operation: string;
  /** Traces from this entry point with at least one span of the service. */
  traces: number;
  /** Of those, the traces whose root span failed: what the user saw. */
  errored: number;
  /** Of those, the traces where a span of the service itself failed. */
  serviceErrored: number;
}

// Traces, not requests: this reads spans, and stays on them even though the mesh samples its spans
// (the map and RED count the mesh's requests from its metrics instead). Metrics say who called
// whom, not which entry point a request came from: only a trace links the two. With sampling,
// `traces` counts the stored traces — a sample of the traffic, plus the traces the mesh kept for a
// failed or faulted request — so the entry points are all there, and the counts compare them with
// each other, not with the map's request counts; failed traces are over-represented in the sample.
//
// The traces come from the service's spans in the window (index by service and time); their roots
// are found through the trace index. A root outside the window still counts: the request began
// just before, and it is the entry point all the same.
const SQL = `
  WITH touched AS (
    SELECT trace_id, MAX(status = 'ERROR') AS failed FROM spans
    WHERE service = @service AND start_ns >= @since AND start_ns < @until
    GROUP BY trace_id
  )
  SELECT r.service AS service, r.name AS operation, COUNT(*) AS traces,
    SUM(r.status = 'ERROR') AS errored, SUM(t.failed) AS serviceErrored
  FROM touched t JOIN spans r ON r.trace_id = t.trace_id AND r.parent_span_id = ''
  GROUP BY r.service, r.name
  ORDER BY traces DESC, r.service, r.name`;

/** The root operations whose traces include a span of `service` in the window, most traces first. */
export function impact(store: TelemetryStore, service: string, window: RequiredWindow): EntryPointImpact[] {
  const params = { service, since: msToNs(window.since, 'since'), until: msToNs(window.until, 'until') };
  return store.read((prepare) => prepare(SQL).all(params) as EntryPointImpact[]);
}
