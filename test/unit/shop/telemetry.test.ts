/**
 * The shop's tracing: nothing starts without an endpoint; with one, a request through the shop's
 * HTTP framework continues the caller's trace in a SERVER span, fetch() calls become CLIENT
 * spans that pass the trace on, database queries become CLIENT spans naming the database as a
 * peer, and log lines carry the trace ids. Spans are read from an in-memory exporter.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gatewayRoutes } from '../../../examples/shop/gateway/src/routes.js';
import { dbPeerFromEnv, inSpan, tracedQuery, type Queryable } from '../../../examples/shop/orders/src/db-tracing.js';
import { createHttpServer, logLine } from '../../../examples/shop/shared/http.js';
import { startTelemetry, telemetryEnabled, type Telemetry } from '../../../examples/shop/shared/telemetry.js';
import { call, close, fakeService, listen, postJson, sendJson, unusedUrl, type FakeService } from '../../../examples/shop/shared/testing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`;

/** The test's own requests, untraced: the fetch instrumentation would otherwise start their traces. */
const asCaller = <T>(request: () => Promise<T>): Promise<T> => context.with(suppressTracing(context.active()), request);

/** Resolves once `check` passes: a server ends its span when the connection closes, just after the answer. */
async function until<T>(check: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('without an endpoint', () => {
  it('starts nothing, and the spans the shop makes record nothing', () => {
    expect(startTelemetry({ serviceName: 'gateway', env: {} })).toBeUndefined();
    expect(startTelemetry({ serviceName: 'gateway', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' } })).toBeUndefined();
    expect(trace.getTracer('test').startSpan('nothing').isRecording()).toBe(false);
  });

  it('is asked for by either endpoint variable, unless the SDK is disabled', () => {
    expect(telemetryEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(false);
    expect(telemetryEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(telemetryEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: ' TRUE ' })).toBe(false);
    expect(telemetryEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'false' })).toBe(true);
  });
});

describe('with an endpoint', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry | undefined;
  let downstream: FakeService;
  let gateway: Server;
  let gatewayUrl: string;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    vi.stubEnv('OTEL_SERVICE_NAME', 'storefront');
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'service.namespace=shop,vcs.ref.head.revision=abc123');
    telemetry = startTelemetry({ serviceName: 'gateway', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }, spanProcessor: new SimpleSpanProcessor(exporter) });
    downstream = await fakeService((req, res) => sendJson(res, req.url === '/broken' ? 500 : 201, { traceparent: req.headers['traceparent'] ?? null }));
    gateway = createHttpServer({
      name: 'gateway',
      routes: gatewayRoutes({ ordersUrl: downstream.url, inventoryUrl: downstream.url, timeoutMs: 2_000 }),
      log: (fields) => logs.push(fields),
    });
    gatewayUrl = await listen(gateway);
  });

  afterEach(() => {
    exporter.reset();
    logs.length = 0;
    downstream.received.length = 0;
  });

  afterAll(async () => {
    await close(gateway);
    await downstream.close();
    await telemetry?.shutdown();
    vi.unstubAllEnvs();
  });

  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const serverSpan = (name: string) => until(() => spans().find((span) => span.kind === SpanKind.SERVER && span.name === name), `the SERVER span ${name}`);

  it('continues the caller trace in a SERVER span named by the route, and passes it on through a CLIENT span', async () => {
    const answer = await asCaller(() => postJson(`${gatewayUrl}/orders`, { sku: 'widget', quantity: 1 }, { traceparent: TRACEPARENT }));
    expect(answer.status).toBe(201);

    const server = await serverSpan('POST /orders');
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/orders', 'url.path': '/orders', 'http.response.status_code': 201 });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.resource.attributes).toMatchObject({ 'service.name': 'storefront', 'service.namespace': 'shop', 'vcs.ref.head.revision': 'abc123' });

    const client = spans().find((span) => span.kind === SpanKind.CLIENT);
    expect(client?.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(client?.spanContext().traceId).toBe(TRACE_ID);
    expect(client?.attributes['server.address']).toBe('127.0.0.1');
    // What the service behind the gateway received: the trace, with the CLIENT span as its parent.
    expect(downstream.received[0]?.headers['traceparent']).toBe(`00-${TRACE_ID}-${client?.spanContext().spanId}-01`);

    expect(logs.find((line) => line['msg'] === 'request')).toMatchObject({ trace_id: TRACE_ID, span_id: server.spanContext().spanId });
  });

  it('starts a new trace without a traceparent, names an unmatched request by its method, and marks 5xx as errors', async () => {
    expect((await asCaller(() => call(`${gatewayUrl}/nowhere`))).status).toBe(404);
    const unmatched = await serverSpan('GET');
    expect(unmatched.parentSpanContext).toBeUndefined();
    expect(unmatched.attributes['http.route']).toBeUndefined();
    expect(unmatched.status.code).toBe(SpanStatusCode.UNSET);

    const unreachable = createHttpServer({ name: 'gateway', routes: gatewayRoutes({ ordersUrl: await unusedUrl(), inventoryUrl: downstream.url }), log: () => undefined });
    const url = await listen(unreachable);
    try {
      expect((await asCaller(() => call(`${url}/orders/1`))).status).toBe(502);
      const failed = await serverSpan('GET /orders/:id');
      expect(failed.status.code).toBe(SpanStatusCode.ERROR);
      expect(failed.attributes).toMatchObject({ 'http.response.status_code': 502, 'error.type': '502' });
    } finally {
      await close(unreachable);
    }
  });

  it('makes no span for health checks', async () => {
    expect((await asCaller(() => call(`${gatewayUrl}/health`))).status).toBe(200);
    await asCaller(() => call(`${gatewayUrl}/stock`));
    await serverSpan('GET /stock');
    expect(spans().filter((span) => span.kind === SpanKind.SERVER).map((span) => span.name)).toEqual(['GET /stock']);
  });

  it('wraps a database query in a CLIENT span that names the database as its peer, without the values', async () => {
    const seen: unknown[][] = [];
    const db: Queryable = {
      query: (_text: string, values?: unknown[]) => {
        seen.push(values ?? []);
        return Promise.resolve({ rows: [], rowCount: 0, command: 'SELECT', oid: 0, fields: [] });
      },
    };
    const peer = dbPeerFromEnv({ PGHOST: 'db', PGDATABASE: 'shop' });
    await inSpan('place order', () => tracedQuery(peer, db, 'SELECT id, sku\n   FROM orders WHERE idempotency_key = $1', ['secret-key']));
    const parent = spans().find((span) => span.name === 'place order');
    const query = spans().find((span) => span.kind === SpanKind.CLIENT);
    expect(query?.name).toBe('SELECT orders');
    expect(query?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
    expect(query?.attributes).toEqual({
      'db.system': 'postgresql',
      'db.system.name': 'postgresql',
      'db.operation.name': 'SELECT',
      'db.collection.name': 'orders',
      'db.query.text': 'SELECT id, sku FROM orders WHERE idempotency_key = $1',
      'db.namespace': 'shop',
      'peer.service': 'db',
      'server.address': 'db',
      'server.port': 5432,
    });
    expect(JSON.stringify(spans().map((span) => span.attributes))).not.toContain('secret-key');
    expect(seen).toEqual([['secret-key']]);
  });

  it('marks a failed query as an error with its SQLSTATE, and rethrows', async () => {
    const failing: Queryable = { query: () => Promise.reject(Object.assign(new Error('duplicate key'), { code: '23505' })) };
    await expect(tracedQuery(dbPeerFromEnv({}), failing, 'INSERT INTO orders (id) VALUES ($1)', ['x'])).rejects.toThrow('duplicate key');
    const [span] = spans();
    expect(span?.name).toBe('INSERT orders');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'duplicate key' });
    expect(span?.attributes).toMatchObject({ 'peer.service': 'db', 'error.type': '23505' });
  });

  it('puts the active span trace ids in log lines', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const span = trace.getTracer('test').startSpan('work');
      context.with(trace.setSpan(context.active(), span), () => logLine('orders', { msg: 'inside' }));
      logLine('orders', { msg: 'outside' });
      span.end();
      const [inside, outside] = write.mock.calls.map(([text]) => JSON.parse(String(text)) as Record<string, unknown>);
      expect(inside).toMatchObject({ service: 'orders', msg: 'inside', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
      expect(outside).not.toHaveProperty('trace_id');
    } finally {
      write.mockRestore();
    }
  });
});
