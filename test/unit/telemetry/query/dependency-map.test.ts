import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dependencyMap, impact, type DependencyEdge } from '../../../../src/telemetry/query/index.js';
import type { TelemetryStore } from '../../../../src/telemetry/store/index.js';
import { closeStores, span, T0, tempStore } from '../store/fixtures.js';
import { legacyPoints, legacySpans, meshPoints, meshSpans } from './mesh.js';
import { MAIN_WINDOW_MS, shopSpans } from './shop.js';

let store: TelemetryStore;
beforeEach(() => {
  store = tempStore();
  store.insertSpans(shopSpans());
});
afterEach(closeStores);

const MAIN = { since: T0, until: T0 + MAIN_WINDOW_MS };
const ALL = { since: T0, until: T0 + 60_000 };

describe('dependencyMap', () => {
  it('derives the shop: gateway → orders → inventory and orders → postgresql, with counts, error rates and nearest-rank percentiles', () => {
    expect(dependencyMap(store, MAIN)).toEqual([
      // Client durations 10, 20 … 200 ms: p50 is the 10th (100), p95 the 19th (190), p99 the 20th (200).
      { source: 'gateway', target: 'orders', via: 'service', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 100, p95Ms: 190, p99Ms: 200 },
      { source: 'orders', target: 'inventory', via: 'service', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 20, p95Ms: 38, p99Ms: 40 },
      { source: 'orders', target: 'postgresql', via: 'peer', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 30, p95Ms: 57, p99Ms: 60 },
    ]);
  });

  it('names a peer by peer.service first, and makes no peer edge when a service answered', () => {
    expect(dependencyMap(store, { since: T0 + 40_000, until: T0 + 60_000 })).toEqual([
      { source: 'gateway', target: 'orders', via: 'service', calls: 2, errors: 0, errorRate: 0, p50Ms: 40, p95Ms: 40, p99Ms: 40 },
      { source: 'orders', target: 'inventory', via: 'service', calls: 2, errors: 0, errorRate: 0, p50Ms: 7, p95Ms: 7, p99Ms: 7 },
      { source: 'orders', target: 'orders-cache', via: 'peer', calls: 2, errors: 0, errorRate: 0, p50Ms: 5, p95Ms: 5, p99Ms: 5 },
    ]);
  });

  it('counts the calls that started in the window only', () => {
    const edges = dependencyMap(store, { since: T0 + 19_000, until: T0 + 20_000 });
    expect(edges.map((e) => [e.source, e.target, e.calls, e.errors, e.p99Ms])).toEqual([
      ['gateway', 'orders', 1, 0, 190],
      ['orders', 'inventory', 1, 0, 38],
      ['orders', 'postgresql', 1, 1, 57],
    ]);
    expect(dependencyMap(store, { since: T0 + 100_000, until: T0 + 200_000 })).toEqual([]);
  });
});

/** Edges with percentiles rounded to 0.01 ms: the mesh's are estimates, computed in floating point. */
const rounded = (edges: DependencyEdge[]) => edges.map((edge) => ({ ...edge, p50Ms: round(edge.p50Ms), p95Ms: round(edge.p95Ms), p99Ms: round(edge.p99Ms) }));
const round = (ms: number): number => Math.round(ms * 100) / 100;

const SHOP_EDGES = [
  { source: 'gateway', target: 'orders', via: 'service', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 100, p95Ms: 190, p99Ms: 200 },
  { source: 'orders', target: 'inventory', via: 'service', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 20, p95Ms: 38, p99Ms: 40 },
  { source: 'orders', target: 'postgresql', via: 'peer', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 30, p95Ms: 57, p99Ms: 60 },
];

describe('dependencyMap through the mesh', () => {
  it('counts calls through the mesh from its metrics, not its sampled spans; percentiles are histogram estimates; instrumented edges are unchanged', () => {
    store.insertMetrics(legacyPoints());
    store.insertSpans(legacySpans());
    expect(rounded(dependencyMap(store, MAIN))).toEqual([
      // 100 calls, not the 3 sampled. p50: rank 50 falls in (10, 25] ms, 10 of its 40: 10 + 15 × 10/40.
      // p95, p99: ranks 95 and 99 fall in (50, 75] ms, narrowed to (50, 60] by the max: 50 + 10 × 15/20, 50 + 10 × 19/20.
      { source: 'gateway', target: 'legacy', via: 'service', calls: 100, errors: 10, errorRate: 0.1, p50Ms: 13.75, p95Ms: 57.5, p99Ms: 59.5 },
      SHOP_EDGES[0], SHOP_EDGES[1], SHOP_EDGES[2],
      // Four alike, narrowed to their min and max: every percentile is the one duration measured.
      { source: 'unknown', target: 'legacy', via: 'service', calls: 4, errors: 0, errorRate: 0, p50Ms: 1, p95Ms: 1, p99Ms: 1 },
    ]);
  });

  it('reads the points whose end time is in [since, until)', () => {
    store.insertMetrics(legacyPoints());
    const calls = (since: number, until: number) => dependencyMap(store, { since: T0 + since, until: T0 + until })
      .filter((edge) => edge.target === 'legacy').map((edge) => [edge.source, edge.calls]);
    expect(calls(10_000, 20_000)).toEqual([['gateway', 50], ['unknown', 4]]);
    expect(calls(10_001, 20_001)).toEqual([['gateway', 50]]);
    expect(calls(0, 10_000)).toEqual([]);
    expect(calls(20_001, 60_000)).toEqual([]);
  });

  it('counts a call between instrumented services through the mesh once, from the metrics', () => {
    // gateway's own CLIENT span → the proxy's CLIENT and SERVER spans → orders' own SERVER span; two such traces sampled of 30 calls.
    const store = tempStore();
    for (const [i, trace] of ['1', '2'].map((digit) => digit.repeat(32)).entries()) {
      const own = span({ traceId: trace, spanId: `c${i}`.padStart(16, '0'), service: 'gateway', kind: 'CLIENT', name: 'POST', startMs: 1_000 * i, durationMs: 12, attributes: { 'server.address': 'orders' } });
      const { spans, serverSpanId } = meshSpans('gateway', 'orders', { startMs: 1_000 * i + 1, durationMs: 10, traceId: trace, parentSpanId: own.spanId });
      store.insertSpans([own, ...spans, span({ traceId: trace, spanId: `s${i}`.padStart(16, '0'), parentSpanId: serverSpanId, service: 'orders', kind: 'SERVER', name: 'POST /orders', startMs: 1_000 * i + 2, durationMs: 8 })]);
    }
    store.insertMetrics(meshPoints('orders', 5_000, [{ caller: 'gateway', method: 'POST', route: '/orders', durationMs: 10, count: 30 }]));
    expect(rounded(dependencyMap(store, { since: T0, until: T0 + 10_000 }))).toEqual([
      { source: 'gateway', target: 'orders', via: 'service', calls: 30, errors: 0, errorRate: 0, p50Ms: 10, p95Ms: 10, p99Ms: 10 },
    ]);
  });

  it('adds a call that went around the proxy to the mesh\'s edge, and names the callers past the proxy\'s cap on series (other)', () => {
    const store = tempStore();
    store.insertSpans([
      span({ traceId: 'a'.repeat(32), spanId: 'c1', service: 'gateway', kind: 'CLIENT', name: 'GET', startMs: 0, durationMs: 40, status: 'ERROR' }),
      span({ traceId: 'a'.repeat(32), spanId: 's1', parentSpanId: 'c1', service: 'orders', kind: 'SERVER', name: 'GET /', startMs: 1, durationMs: 38 }),
    ]);
    store.insertMetrics(meshPoints('orders', 5_000, [
      { caller: 'gateway', durationMs: 10, count: 9 },
      { caller: 'web', durationMs: 10, count: 3 },
    ], { maxSeries: 1 }));
    expect(dependencyMap(store, { since: T0, until: T0 + 10_000 }).map(({ source, target, calls, errors, p99Ms }) => [source, target, calls, errors, Math.round(p99Ms * 10) / 10])).toEqual([
      ['(other)', 'orders', 3, 0, 10],
      // 9 through the mesh at 10 ms, 1 around it at 40 ms (failed): rank 9.9 is in (25, 50] ms, narrowed to (25, 40] by the max.
      ['gateway', 'orders', 10, 1, 38.5],
    ]);
  });
});

describe('impact', () => {
  it('finds the entry points whose traces reach a service, with the traces that failed', () => {
    expect(impact(store, 'inventory', MAIN)).toEqual([{ service: 'gateway', operation: 'GET /checkout', traces: 20, errored: 1, serviceErrored: 1 }]);
    expect(impact(store, 'inventory', ALL)).toEqual([
      { service: 'gateway', operation: 'GET /checkout', traces: 20, errored: 1, serviceErrored: 1 },
      { service: 'gateway', operation: 'GET /orders/:id', traces: 2, errored: 0, serviceErrored: 0 },
    ]);
  });

  it('counts a service that is itself the entry point, and nothing for an unknown one', () => {
    expect(impact(store, 'gateway', MAIN)).toEqual([
      { service: 'gateway', operation: 'GET /checkout', traces: 20, errored: 1, serviceErrored: 1 },
      { service: 'gateway', operation: 'GET /health', traces: 5, errored: 0, serviceErrored: 0 },
    ]);
    expect(impact(store, 'nobody', ALL)).toEqual([]);
  });
});
