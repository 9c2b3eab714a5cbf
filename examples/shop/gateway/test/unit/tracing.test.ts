/**
 * Tracing as the bundled gateway does it, on the Node the image runs (18 or 20, whose fetch()
 * is built on different undici majors): a request that carries a traceparent continues that
 * trace in a SERVER span, and the call to the service behind it is a CLIENT span whose id
 * arrives there as the new parent.
 */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind, context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createHttpServer } from '../../../shared/http.js';
import { startTelemetry, type Telemetry } from '../../../shared/telemetry.js';
import { close, fakeService, listen, postJson, sendJson, type FakeService } from '../../../shared/testing.js';
import { gatewayRoutes } from '../../src/routes.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

describe('gateway tracing', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry | undefined;
  let orders: FakeService;
  let gatewayUrl: string;
  let stopGateway: () => Promise<void>;

  before(async () => {
    telemetry = startTelemetry({ serviceName: 'gateway', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }, spanProcessor: new SimpleSpanProcessor(exporter) });
    orders = await fakeService((_req, res) => sendJson(res, 201, { id: 'o-1' }));
    const server = createHttpServer({ name: 'gateway', routes: gatewayRoutes({ ordersUrl: orders.url, inventoryUrl: orders.url }), log: () => undefined });
    gatewayUrl = await listen(server);
    stopGateway = () => close(server);
  });
  after(async () => {
    await stopGateway();
    await orders.close();
    await telemetry?.shutdown();
  });

  it('continues the caller trace through the gateway to the service behind it', async () => {
    assert.ok(telemetry, 'telemetry starts when an endpoint is set');
    // The test's own request is not traced: it only carries the caller's traceparent.
    const answer = await context.with(suppressTracing(context.active()), () =>
      postJson(`${gatewayUrl}/orders`, { sku: 'widget', quantity: 1 }, { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` }),
    );
    assert.equal(answer.status, 201);
    // The SERVER span ends when the connection closes, just after the answer.
    for (let i = 0; i < 100 && !exporter.getFinishedSpans().some((span) => span.kind === SpanKind.SERVER); i++) await new Promise((resolve) => setTimeout(resolve, 10));

    const server = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER);
    const client = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.CLIENT);
    assert.equal(server?.name, 'POST /orders');
    assert.equal(server.spanContext().traceId, TRACE_ID);
    assert.equal(server.parentSpanContext?.spanId, CALLER_SPAN_ID);
    assert.equal(client?.parentSpanContext?.spanId, server.spanContext().spanId);
    assert.equal(orders.received[0]?.headers['traceparent'], `00-${TRACE_ID}-${client.spanContext().spanId}-01`);
  });
});
