/** The mesh's metrics aggregation: one series per caller, method, route and status, reset at each export (delta). */
import { expect, test } from 'vitest';
import { MeshMetrics } from '../../../src/mesh/http/telemetry/otlp-metrics.js';
import { decodeMetricsRequest } from '../../../src/telemetry/otlp/index.js';

const decode = (body: Buffer | undefined) => decodeMetricsRequest(body ?? Buffer.alloc(0), 'application/x-protobuf').records;

test('keeps one series per caller, method, route and status, and starts afresh after each collect', () => {
  let now = 1_000_000_000n;
  const metrics = new MeshMetrics({ 'service.name': 'api' }, 2_000, () => now);
  const add = (caller: string, method: string, route: string, status: number, seconds: number) => metrics.add(caller, method, route, status, seconds, status >= 500);
  add('web', 'GET', '/a', 200, 0.001);
  add('web', 'GET', '/a', 200, 0.02);
  add('web', 'GET', '/a', 503, 0.5);
  add('web', 'POST', '/a', 200, 0.001);
  add('web', 'GET', '/b', 200, 0.001);
  add('cron', 'GET', '/a', 200, 0.001);
  // A route that is a new string each time (as routeOf makes them) finds the same series.
  add('web', 'GET', ['', 'a'].join('/'), 200, 0.003);
  expect(metrics.size).toBe(5);
  now = 2_000_000_000n;
  const points = decode(metrics.collect());
  const requests = points.filter((point) => point.name === 'flotilla.mesh.requests')
    .map((point) => [point.attributes['flotilla.caller'], point.attributes['http.request.method'], point.attributes['http.route'], point.attributes['http.response.status_code'], point.value]);
  expect(requests).toEqual([
    ['web', 'GET', '/a', 200, 3], ['web', 'GET', '/a', 503, 1], ['web', 'POST', '/a', 200, 1], ['web', 'GET', '/b', 200, 1], ['cron', 'GET', '/a', 200, 1],
  ]);
  const histogram = points.find((point) => point.name === 'http.server.request.duration' && point.attributes['http.response.status_code'] === 200 && point.attributes['http.route'] === '/a' && point.attributes['http.request.method'] === 'GET' && point.attributes['flotilla.caller'] === 'web');
  expect(histogram).toMatchObject({ count: 3, min: 0.001, max: 0.02, buckets: { counts: [2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] } });
  expect(points[0]).toMatchObject({ startTimeUnixNano: '1000000000', timeUnixNano: '2000000000' });

  // Delta: the next interval holds only what came after.
  add('web', 'GET', '/a', 200, 0.001);
  expect(metrics.size).toBe(1);
  now = 3_000_000_000n;
  expect(decode(metrics.collect()).filter((point) => point.name === 'flotilla.mesh.requests').map((point) => point.value)).toEqual([1]);
  expect(metrics.collect()).toBeUndefined();
});
