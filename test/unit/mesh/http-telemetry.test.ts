/** Telemetry of the HTTP proxy: spans and metrics decode, and the dependency map draws caller → callee from them alone. */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createOtlpTelemetry, routeOf, startHttpProxy, type HttpProxy, type MeshTelemetry } from '../../../src/mesh/index.js';
import { MeshMetrics } from '../../../src/mesh/http/telemetry/otlp-metrics.js';
import { decodeMetricsRequest, decodeTracesRequest } from '../../../src/telemetry/otlp/index.js';
import { dependencyMap } from '../../../src/telemetry/query/index.js';
import { openTelemetryStore } from '../../../src/telemetry/store/index.js';
import { closeHttp, request, startOkUpstream, startUpstream } from './http-helpers.js';
import { eventually } from './net-helpers.js';

let proxy: HttpProxy | undefined;
let telemetry: MeshTelemetry | undefined;
let collector: http.Server | undefined;
let dir: string | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await telemetry?.close();
  telemetry = undefined;
  if (collector) {
    collector.closeAllConnections();
    await new Promise<void>((resolve) => collector?.close(() => resolve()));
  }
  collector = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  await closeHttp();
});

interface Received {
  path: string;
  contentType: string;
  body: Buffer;
}

async function startCollector(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  collector = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(parts) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => collector?.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return { url: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`, received };
}

test('routes are low-cardinality', () => {
  expect(routeOf('/orders/42?full=1')).toBe('/orders/:id');
  expect(routeOf('/users/3f2b8c1e-1a2b-4c3d-9e8f-0123456789ab/cart')).toBe('/users/:id/cart');
  expect(routeOf('/v1/items/5f1d7a3b9c8e7d6f5a4b3c2d')).toBe('/v1/items/:id');
  expect(routeOf('/v1/health')).toBe('/v1/health');
  expect(routeOf('http://inventory/stock/7')).toBe('/stock/:id');
});

test('each sampled request exports a CLIENT span for the caller and a SERVER span for the callee; the dependency map draws the edge from the metrics', async () => {
  const { url, received } = await startCollector();
  const upstream = await startUpstream((req, response) => {
    response.writeHead(req.url?.startsWith('/fail') ? 503 : 200);
    response.end('x');
  });
  telemetry = createOtlpTelemetry({ service: 'inventory', version: '1.4.2', endpoint: url, flushIntervalMs: 20, metricsIntervalMs: 20 });
  proxy = await startHttpProxy({ name: 'inventory', listen: '127.0.0.1:0', upstream: upstream.address, telemetry, resolveCaller: (ip) => (ip === '127.0.0.1' ? 'orders' : 'unknown') });
  const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const before = Date.now();
  await request(proxy.listen, { path: '/stock/17?x=1', headers: { traceparent: incoming } });
  await request(proxy.listen, { method: 'POST', path: '/stock/18/reserve', body: 'q' });
  await request(proxy.listen, { path: '/fail/1' });
  await eventually(() => received.filter((r) => r.path === '/v1/traces').reduce((n, r) => n + decodeTracesRequest(r.body, r.contentType).records.length, 0) >= 6);
  const spans = received.filter((r) => r.path === '/v1/traces').flatMap((r) => {
    expect(r.contentType).toBe('application/x-protobuf');
    const decoded = decodeTracesRequest(r.body, r.contentType);
    expect(decoded.rejected).toBe(0);
    return decoded.records;
  });
  expect(spans).toHaveLength(6);
  const seen = upstream.seen[0]?.headers.traceparent ?? '';
  const server = spans.find((span) => span.kind === 'SERVER' && span.traceId === '0af7651916cd43dd8448eb211c80319c');
  const client = spans.find((span) => span.kind === 'CLIENT' && span.traceId === '0af7651916cd43dd8448eb211c80319c');
  expect(client).toMatchObject({ service: 'orders', parentSpanId: 'b7ad6b7169203331', name: 'GET /stock/:id', status: 'UNSET' });
  expect(client?.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.route': '/stock/:id', 'http.response.status_code': 200, 'flotilla.mesh.attempts': 1, 'peer.service': 'inventory' });
  expect(server).toMatchObject({ service: 'inventory', parentSpanId: client?.spanId, kind: 'SERVER' });
  expect(server?.resource['service.version']).toBe('1.4.2');
  // The upstream's traceparent names the proxy's SERVER span as its parent.
  expect(seen).toBe(`00-0af7651916cd43dd8448eb211c80319c-${server?.spanId ?? ''}-01`);
  expect(BigInt(client?.endTimeUnixNano ?? 0) - BigInt(client?.startTimeUnixNano ?? 0)).toBeGreaterThan(0n);
  const failed = spans.filter((span) => span.name === 'GET /fail/:id');
  expect(failed.map((span) => span.status)).toEqual(['ERROR', 'ERROR']);

  const metricPoints = () => received.filter((r) => r.path === '/v1/metrics').flatMap((r) => decodeMetricsRequest(r.body, r.contentType).records);
  const requests = () => metricPoints().filter((point) => point.name === 'flotilla.mesh.requests').reduce((n, point) => n + (point.value ?? 0), 0);
  await eventually(() => requests() >= 3);

  dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-mesh-telemetry-'));
  const store = openTelemetryStore(path.join(dir, 'telemetry.db'));
  try {
    expect(store.insertSpans(spans)).toBe(6);
    expect(store.insertMetrics(metricPoints())).toBeGreaterThan(0);
    const edges = dependencyMap(store, { since: before - 1_000, until: Date.now() + 1_000 });
    expect(edges).toHaveLength(1);
    expect(edges[0]).toMatchObject({ source: 'orders', target: 'inventory', via: 'service', calls: 3, errors: 1 });
  } finally {
    store.close();
  }
});

test('metrics: request count, error count and a duration histogram per caller, method, route and status', async () => {
  const { url, received } = await startCollector();
  const upstream = await startOkUpstream();
  telemetry = createOtlpTelemetry({ service: 'inventory', version: '2', endpoint: url, flushIntervalMs: 60_000, metricsIntervalMs: 50 });
  proxy = await startHttpProxy({ name: 'inventory', listen: '127.0.0.1:0', upstream: upstream.address, telemetry });
  for (let i = 0; i < 3; i++) await request(proxy.listen, { path: `/stock/${i}` });
  proxy.toxics.add({ type: 'http_abort', stream: 'upstream', attributes: { status: 500 } });
  await request(proxy.listen, { path: '/stock/9' });
  await eventually(() => received.some((r) => r.path === '/v1/metrics'));
  const points = received.filter((r) => r.path === '/v1/metrics').flatMap((r) => {
    const decoded = decodeMetricsRequest(r.body, r.contentType);
    expect(decoded.rejected).toBe(0);
    return decoded.records;
  });
  const ok = points.filter((point) => point.attributes['http.response.status_code'] === 200);
  const failed = points.filter((point) => point.attributes['http.response.status_code'] === 500);
  expect(ok.find((point) => point.name === 'flotilla.mesh.requests')).toMatchObject({ kind: 'sum', temporality: 'DELTA', monotonic: true, value: 3 });
  expect(ok.find((point) => point.name === 'flotilla.mesh.errors')?.value).toBe(0);
  expect(failed.find((point) => point.name === 'flotilla.mesh.errors')?.value).toBe(1);
  const histogram = ok.find((point) => point.name === 'http.server.request.duration');
  expect(histogram).toMatchObject({ kind: 'histogram', unit: 's', count: 3 });
  expect(histogram?.attributes).toMatchObject({ 'flotilla.caller': 'unknown', 'http.request.method': 'GET', 'http.route': '/stock/:id' });
  expect(histogram?.resource['service.name']).toBe('inventory');
});

test('metrics cap their series: the rest go to one overflow series', () => {
  const metrics = new MeshMetrics({ 'service.name': 's' }, 5);
  for (let i = 0; i < 50; i++) metrics.record({ caller: `c${i}`, method: 'GET', route: '/', status: 200, durationMs: 1, error: false });
  expect(metrics.size).toBe(6);
  const body = metrics.collect();
  expect(body).toBeDefined();
  const points = decodeMetricsRequest(body ?? Buffer.alloc(0), 'application/x-protobuf').records;
  const overflow = points.find((point) => point.name === 'flotilla.mesh.requests' && point.attributes['otel.metric.overflow'] === true);
  expect(overflow?.value).toBe(45);
  expect(metrics.collect()).toBeUndefined();
});

test('an unreachable collector never slows or breaks the proxy; the queue stays bounded', async () => {
  const upstream = await startOkUpstream();
  telemetry = createOtlpTelemetry({ service: 'inventory', version: '1', endpoint: 'http://127.0.0.1:1', flushIntervalMs: 10, maxQueue: 10 });
  proxy = await startHttpProxy({ name: 'inventory', listen: '127.0.0.1:0', upstream: upstream.address, telemetry });
  for (let i = 0; i < 30; i++) expect((await request(proxy.listen)).status).toBe(200);
  const stats = telemetry.stats();
  expect(stats?.queued).toBeLessThanOrEqual(10);
  expect(stats?.dropped).toBeGreaterThan(0);
});
