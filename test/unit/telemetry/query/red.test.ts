import { afterEach, describe, expect, it } from 'vitest';
import { red, type RedStats } from '../../../../src/telemetry/query/index.js';
import { closeStores, span, T0, tempStore } from '../store/fixtures.js';
import { legacyPoints, legacySpans, meshPoints } from './mesh.js';
import { MAIN_WINDOW_MS, shopSpans } from './shop.js';

afterEach(closeStores);

describe('red', () => {
  it('gives rate, errors and nearest-rank percentiles of SERVER spans per service and per operation', () => {
    const store = tempStore();
    store.insertSpans(shopSpans());
    const report = red(store, { since: T0, until: T0 + MAIN_WINDOW_MS });
    expect(report.services).toEqual([
      // 5 health checks of 1 ms, then 110 … 300 ms: rank 13 of 25 is 180, rank 24 is 290, rank 25 is 300.
      { service: 'gateway', calls: 25, errors: 1, errorRate: 0.04, p50Ms: 180, p95Ms: 290, p99Ms: 300, ratePerSecond: 25 / 35 },
      { service: 'inventory', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 10, p95Ms: 19, p99Ms: 20, ratePerSecond: 20 / 35 },
      { service: 'orders', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 98, p95Ms: 188, p99Ms: 198, ratePerSecond: 20 / 35 },
    ]);
    expect(report.operations).toEqual([
      { service: 'gateway', operation: 'GET /checkout', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 200, p95Ms: 290, p99Ms: 300, ratePerSecond: 20 / 35 },
      { service: 'gateway', operation: 'GET /health', calls: 5, errors: 0, errorRate: 0, p50Ms: 1, p95Ms: 1, p99Ms: 1, ratePerSecond: 5 / 35 },
      { service: 'inventory', operation: 'GET /stock', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 10, p95Ms: 19, p99Ms: 20, ratePerSecond: 20 / 35 },
      { service: 'orders', operation: 'POST /orders', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 98, p95Ms: 188, p99Ms: 198, ratePerSecond: 20 / 35 },
    ]);
  });

  it.each([
    ['1 to 100 ms, shuffled', [...Array(100).keys()].map((i) => ((i * 37) % 100) + 1), [50, 95, 99]],
    ['one sample', [7], [7, 7, 7]],
    ['three samples', [30, 10, 20], [20, 30, 30]],
    ['two samples', [4, 2], [2, 4, 4]],
  ])('picks nearest-rank percentiles of %s', (_, durations, [p50, p95, p99]) => {
    const store = tempStore();
    store.insertSpans(durations.map((d, i) => span({ traceId: `t${i}`, spanId: 's', service: 'x', kind: 'SERVER', name: 'op', startMs: i, durationMs: d })));
    const [line] = red(store, { since: T0, until: T0 + 1_000 }).services;
    expect([line?.p50Ms, line?.p95Ms, line?.p99Ms]).toEqual([p50, p95, p99]);
    expect(line?.calls).toBe(durations.length);
  });

  it('ignores spans that are not SERVER spans', () => {
    const store = tempStore();
    store.insertSpans([span({ traceId: 't', spanId: 's', service: 'x', kind: 'CONSUMER', name: 'op', startMs: 0, durationMs: 1 })]);
    expect(red(store, { since: T0, until: T0 + 1_000 })).toEqual({ services: [], operations: [] });
  });

  it('counts a request once when the mesh proxy and the instrumented service both answer it, and counts what the proxy answered alone', () => {
    const store = tempStore();
    const mesh = { name: 'flotilla.mesh', version: '1' };
    store.insertSpans([
      // Through the mesh to an instrumented service: the proxy's SERVER span, then the service's own.
      span({ traceId: 't1', spanId: 'p1', service: 'inventory', kind: 'SERVER', name: 'POST /reservations', startMs: 0, durationMs: 9, scope: mesh }),
      span({ traceId: 't1', spanId: 's1', parentSpanId: 'p1', service: 'inventory', kind: 'SERVER', name: 'POST /reservations', startMs: 1, durationMs: 7 }),
      // A fault the proxy answered itself: the service never saw it (its spans are always kept: failed).
      span({ traceId: 't3', spanId: 'p3', service: 'inventory', kind: 'SERVER', name: 'POST /reservations', startMs: 3, durationMs: 1, scope: mesh, status: 'ERROR' }),
      // Through the mesh to a service with no instrumentation: the proxy's span is a sample; its metrics count.
      span({ traceId: 't2', spanId: 'p2', service: 'legacy', kind: 'SERVER', name: 'GET /', startMs: 2, durationMs: 3, scope: mesh }),
    ]);
    store.insertMetrics([
      ...meshPoints('legacy', 500, [{ caller: 'web', durationMs: 3, count: 6 }]),
      // The instrumented service's proxy counts too, but the service's own spans answer for it.
      ...meshPoints('inventory', 500, [{ caller: 'orders', method: 'POST', route: '/reservations', durationMs: 9, count: 50 }]),
    ]);
    const report = red(store, { since: T0, until: T0 + 1_000 });
    expect(report.services.map((line) => [line.service, line.calls, line.errors, Math.round(line.p50Ms)])).toEqual([['inventory', 2, 1, 1], ['legacy', 6, 0, 3]]);
  });
});

describe('red through the mesh', () => {
  it('reads a service with no instrumentation from its proxy\'s metrics: every request, errors, histogram percentiles; instrumented services unchanged', () => {
    const store = tempStore();
    store.insertSpans(shopSpans());
    store.insertMetrics(legacyPoints());
    store.insertSpans(legacySpans());
    const report = red(store, { since: T0, until: T0 + MAIN_WINDOW_MS });
    const round = (lines: RedStats[]) => lines.map(({ p50Ms, p95Ms, p99Ms, ...line }) => ({ ...line, p: [p50Ms, p95Ms, p99Ms].map((ms) => Math.round(ms * 100) / 100) }));
    expect(round(report.services)).toEqual([
      { service: 'gateway', calls: 25, errors: 1, errorRate: 0.04, p: [180, 290, 300], ratePerSecond: 25 / 35 },
      { service: 'inventory', calls: 20, errors: 1, errorRate: 0.05, p: [10, 19, 20], ratePerSecond: 20 / 35 },
      // 104 requests (not the 3 sampled): 44 in (0, 5] ms, 40 in (10, 25], 20 in (50, 75] narrowed to (50, 60] by the max.
      // p50: rank 52, 8 into (10, 25]: 10 + 15 × 8/40 = 13. p95: rank 98.8: 50 + 10 × 14.8/20. p99: rank 102.96: 50 + 10 × 18.96/20.
      { service: 'legacy', calls: 104, errors: 10, errorRate: 10 / 104, p: [13, 57.4, 59.48], ratePerSecond: 104 / 35 },
      { service: 'orders', calls: 20, errors: 1, errorRate: 0.05, p: [98, 188, 198], ratePerSecond: 20 / 35 },
    ]);
    expect(round(report.operations.filter((line) => line.service === 'legacy'))).toEqual([
      { service: 'legacy', operation: 'GET /health', calls: 4, errors: 0, errorRate: 0, p: [1, 1, 1], ratePerSecond: 4 / 35 },
      // 40 in (0, 5] narrowed to [3, 5] by the min; 40 in (10, 25] narrowed to (10, 20] by the max.
      { service: 'legacy', operation: 'GET /items/:id', calls: 80, errors: 0, errorRate: 0, p: [5, 19, 19.8], ratePerSecond: 80 / 35 },
      { service: 'legacy', operation: 'POST /items', calls: 20, errors: 10, errorRate: 0.5, p: [60, 60, 60], ratePerSecond: 20 / 35 },
    ]);
    expect(report.operations.map((line) => line.service)).toEqual(['gateway', 'gateway', 'inventory', 'legacy', 'legacy', 'legacy', 'orders']);
  });
});
