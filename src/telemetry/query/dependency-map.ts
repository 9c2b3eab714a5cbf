/** The service dependency map, derived from spans: who calls whom, how often, how well, how fast. */
import type { TelemetryStore } from '../store/telemetry-store.js';
import { msToNs } from './filters.js';
import { groupLatencies, type LatencyStats } from './percentiles.js';

/** A closed-open window in epoch milliseconds: [since, until). */
export interface RequiredWindow {
  since: number;
  until: number;
}

/** One edge of the map: `source` calls `target`. Latency is the caller's client span duration. */
export interface DependencyEdge extends LatencyStats {
  source: string;
  target: string;
  /** `service`: an instrumented service answered (a child span); `peer`: an uninstrumented peer such as a database, named by its attributes. */
  via: 'service' | 'peer';
}

// Service edges: a CLIENT or PRODUCER span whose child is a SERVER or CONSUMER span, in the same trace.
// Peer edges: a CLIENT span naming a peer (peer.service, db.system or server.address) with no child.
// A call is an error when the caller's span says so: that is what the caller saw.
const SAMPLES = `
  SELECT p.service, c.service, 'service', p.duration_ns, p.status = 'ERROR'
  FROM spans p JOIN spans c ON c.trace_id = p.trace_id AND c.parent_span_id = p.span_id
  WHERE p.start_ns >= @since AND p.start_ns < @until AND p.kind IN ('CLIENT', 'PRODUCER') AND c.kind IN ('SERVER', 'CONSUMER')
  UNION ALL
  SELECT p.service, p.peer, 'peer', p.duration_ns, p.status = 'ERROR'
  FROM spans p
  WHERE p.start_ns >= @since AND p.start_ns < @until AND p.kind = 'CLIENT' AND p.peer IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM spans c WHERE c.trace_id = p.trace_id AND c.parent_span_id = p.span_id)`;

/** The edges between services (and to uninstrumented peers) from calls that started in the window, sorted by source, target, via. */
export function dependencyMap(store: TelemetryStore, window: RequiredWindow): DependencyEdge[] {
  const params = { since: msToNs(window.since, 'since'), until: msToNs(window.until, 'until') };
  // Raw rows, streamed: one small array per call and no object per row.
  const groups = store.read((prepare) => groupLatencies(prepare(SAMPLES).raw(true).iterate(params) as Iterable<unknown[]>, 3));
  return groups.map(({ key: [source = '', target = '', via], stats }) => ({ source, target, via: via === 'peer' ? 'peer' : 'service', ...stats }));
}
