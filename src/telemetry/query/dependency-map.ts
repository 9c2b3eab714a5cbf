/**
 * The service dependency map: who calls whom, how often, how well, how fast. Calls through the
 * mesh come from the mesh proxies' metrics, which count every request (their spans are a sample);
 * calls between instrumented services and to uninstrumented peers come from the services' spans.
 */
import type { TelemetryStore } from '../store/telemetry-store.js';
import { msToNs } from './filters.js';
import { addCall, MESH_SCOPE_NAME, meshTraffic, trafficStats, type MeshTraffic } from './mesh-traffic.js';
import { groupLatencies, type LatencyStats } from './percentiles.js';

/** A closed-open window in epoch milliseconds: [since, until). */
export interface RequiredWindow {
  since: number;
  until: number;
}

/**
 * One edge of the map: `source` calls `target`. Through the mesh, the counts are exact and the
 * latency is the callee's proxy's (request in to response out), its percentiles estimated from the
 * proxy's duration histogram (linear inside a bucket, as Prometheus' histogram_quantile); between
 * instrumented services, the latency is the caller's client span duration, percentiles nearest-rank.
 */
export interface DependencyEdge extends LatencyStats {
  source: string;
  target: string;
  /** `service`: a service answered (through the mesh, or an instrumented child span); `peer`: an uninstrumented peer such as a database, named by its attributes. */
  via: 'service' | 'peer';
}

// Service edges: a CLIENT or PRODUCER span whose child is a SERVER or CONSUMER span, in the same trace.
// Peer edges: a CLIENT span naming a peer (peer.service, db.system or server.address) with no child.
// A call is an error when the caller's span says so: that is what the caller saw.
// The mesh's own span pairs (its CLIENT span for the caller, then its SERVER span for the callee)
// are left out: the mesh's metrics count those calls, all of them, where its spans are a sample.
// The mesh's CLIENT span is only ever the parent of its SERVER span, so leaving out mesh parents is enough.
const SAMPLES = `
  SELECT p.service, c.service, 'service', p.duration_ns, p.status = 'ERROR'
  FROM spans p JOIN spans c ON c.trace_id = p.trace_id AND c.parent_span_id = p.span_id
  WHERE p.start_ns >= @since AND p.start_ns < @until AND p.kind IN ('CLIENT', 'PRODUCER') AND c.kind IN ('SERVER', 'CONSUMER')
    AND p.scope_name <> '${MESH_SCOPE_NAME}'
  UNION ALL
  SELECT p.service, p.peer, 'peer', p.duration_ns, p.status = 'ERROR'
  FROM spans p
  WHERE p.start_ns >= @since AND p.start_ns < @until AND p.kind = 'CLIENT' AND p.peer IS NOT NULL AND p.scope_name <> '${MESH_SCOPE_NAME}'
    AND NOT EXISTS (SELECT 1 FROM spans c WHERE c.trace_id = p.trace_id AND c.parent_span_id = p.span_id)`;

/**
 * Span samples of calls the mesh also has an edge for (a caller that reached the callee both through
 * its proxy and around it) go into that edge's histogram, so an edge is listed once; the rest pass.
 */
function* besidesMesh(rows: Iterable<unknown[]>, mesh: ReadonlyMap<string, MeshTraffic>): Iterable<unknown[]> {
  for (const row of rows) {
    const edge = row[2] === 'service' ? mesh.get(`${String(row[0])}\0${String(row[1])}`) : undefined;
    if (edge) addCall(edge, Number(row[3]), Boolean(row[4]));
    else yield row;
  }
}

/** The edges between services (and to uninstrumented peers) from calls in the window, sorted by source, target, via. */
export function dependencyMap(store: TelemetryStore, window: RequiredWindow): DependencyEdge[] {
  const params = { since: msToNs(window.since, 'since'), until: msToNs(window.until, 'until') };
  return store.read((prepare) => {
    const [mesh = new Map<string, MeshTraffic>()] = meshTraffic(prepare, params, [(point) => [point.caller, point.service]]);
    // Raw rows, streamed: one small array per call and no object per row.
    const spanEdges = groupLatencies(besidesMesh(prepare(SAMPLES).raw(true).iterate(params) as Iterable<unknown[]>, mesh), 3)
      .map(({ key: [source = '', target = '', via], stats }): DependencyEdge => ({ source, target, via: via === 'peer' ? 'peer' : 'service', ...stats }));
    const meshEdges = [...mesh.values()]
      .filter((edge) => edge.calls > 0)
      .map((edge): DependencyEdge => ({ source: edge.key[0] ?? '', target: edge.key[1] ?? '', via: 'service', ...trafficStats(edge) }));
    return [...spanEdges, ...meshEdges].sort(compareEdges);
  });
}

function compareEdges(a: DependencyEdge, b: DependencyEdge): number {
  for (const field of ['source', 'target', 'via'] as const) {
    if (a[field] !== b[field]) return a[field] < b[field] ? -1 : 1;
  }
  return 0;
}
