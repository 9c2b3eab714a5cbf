import { afterEach, describe, expect, it } from 'vitest';
import { red } from '../../../../src/telemetry/query/index.js';
import { closeStores, span, T0, tempStore } from '../store/fixtures.js';
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

  it('counts a request once when the mesh proxy and the instrumented service both answer it', () => {
    const store = tempStore();
    const mesh = { name: 'flotilla.mesh', version: '1' };
    store.insertSpans([
      // Through the mesh to an instrumented service: the proxy's SERVER span, then the service's own.
      span({ traceId: 't1', spanId: 'p1', service: 'inventory', kind: 'SERVER', name: 'POST /reservations', startMs: 0, durationMs: 9, scope: mesh }),
      span({ traceId: 't1', spanId: 's1', parentSpanId: 'p1', service: 'inventory', kind: 'SERVER', name: 'POST /reservations', startMs: 1, durationMs: 7 }),
      // Through the mesh to a service with no instrumentation: the proxy's span is all there is.
      span({ traceId: 't2', spanId: 'p2', service: 'legacy', kind: 'SERVER', name: 'GET /', startMs: 2, durationMs: 3, scope: mesh }),
    ]);
    const report = red(store, { since: T0, until: T0 + 1_000 });
    expect(report.services.map((line) => [line.service, line.calls, line.p50Ms])).toEqual([['inventory', 1, 7], ['legacy', 1, 3]]);
  });
});
