/**
 * Bodies produced by the official OpenTelemetry JS exporters (JSON and protobuf, plain and
 * gzip), captured on a local socket and decoded into the exact records Flotilla keeps.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, test } from 'vitest';
import { decodeLogsRequest, decodeTracesRequest } from '../../../../src/telemetry/otlp/index.js';
import type { LogRecord, SpanRecord } from '../../../../src/telemetry/types.js';
import { startCaptureServer, type CapturedRequest } from './capture-server.js';

const resource = { 'service.name': 'checkout', 'deployment.environment': 'test' };
const traceId = '0af7651916cd43dd8448eb211c80319c';
const spanId = 'b7ad6b7169203331';

const variants = [
  { format: 'json', compression: CompressionAlgorithm.NONE, contentType: 'application/json' },
  { format: 'json', compression: CompressionAlgorithm.GZIP, contentType: 'application/json' },
  { format: 'protobuf', compression: CompressionAlgorithm.NONE, contentType: 'application/x-protobuf' },
  { format: 'protobuf', compression: CompressionAlgorithm.GZIP, contentType: 'application/x-protobuf' },
] as const;

function header(request: CapturedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function checkHeaders(request: CapturedRequest, contentType: string, compression: CompressionAlgorithm): void {
  expect(header(request, 'content-type')).toBe(contentType);
  expect(header(request, 'content-encoding')).toBe(compression === CompressionAlgorithm.GZIP ? 'gzip' : undefined);
}

describe('logs from the official exporters', () => {
  async function exportLogs(exporter: LogRecordExporter): Promise<void> {
    const provider = new LoggerProvider({
      resource: resourceFromAttributes(resource),
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger('checkout-logger', '1.2.3');
    logger.emit({
      timestamp: [1_700_000_000, 123_456_789],
      observedTimestamp: [1_700_000_001, 5],
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'order placed',
      attributes: {
        'order.id': 'A-17',
        'order.items': 3,
        'order.total': 42.5,
        'order.paid': true,
        'order.tags': ['gift', 'express'],
        'order.customer': { id: 7, vip: true },
      },
      context: trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED }),
    });
    logger.emit({
      timestamp: [1_700_000_002, 0],
      observedTimestamp: [1_700_000_002, 1],
      severityNumber: SeverityNumber.ERROR2,
      body: { code: 500, reason: 'db down' },
    });
    await provider.forceFlush();
    await provider.shutdown();
  }

  const expected: LogRecord[] = [
    {
      timeUnixNano: '1700000000123456789',
      observedTimeUnixNano: '1700000001000000005',
      severityNumber: 9,
      severityText: 'INFO',
      body: 'order placed',
      service: 'checkout',
      traceId,
      spanId,
      attributes: {
        'order.id': 'A-17',
        'order.items': 3,
        'order.total': 42.5,
        'order.paid': true,
        'order.tags': '["gift","express"]',
        'order.customer': '{"id":7,"vip":true}',
      },
      resource,
      scope: { name: 'checkout-logger', version: '1.2.3' },
    },
    {
      timeUnixNano: '1700000002000000000',
      observedTimeUnixNano: '1700000002000000001',
      severityNumber: 18,
      // No severityText was sent: the group name of the number stands in.
      severityText: 'ERROR',
      body: '{"code":500,"reason":"db down"}',
      service: 'checkout',
      traceId: '',
      spanId: '',
      attributes: {},
      resource,
      scope: { name: 'checkout-logger', version: '1.2.3' },
    },
  ];

  test.each(variants)('$format, compression $compression', async ({ format, compression, contentType }) => {
    await using server = await startCaptureServer();
    const options = { url: `${server.url}/v1/logs`, compression };
    await exportLogs(format === 'json' ? new JsonLogExporter(options) : new ProtoLogExporter(options));

    expect(server.requests.length).toBeGreaterThan(0);
    const records: LogRecord[] = [];
    for (const request of server.requests) {
      expect(request.path).toBe('/v1/logs');
      checkHeaders(request, contentType, compression);
      const decoded = decodeLogsRequest(request.body, contentType, header(request, 'content-encoding'));
      expect(decoded.rejected).toBe(0);
      expect(decoded.errorMessage).toBe('');
      records.push(...decoded.records);
    }
    // Each record goes out in its own request and the two may arrive in either order.
    records.sort((a, b) => a.timeUnixNano.localeCompare(b.timeUnixNano));
    expect(records).toEqual(expected);
  });
});

describe('spans from the official exporters', () => {
  async function exportSpans(exporter: SpanExporter): Promise<{ traceId: string; parent: string; child: string }> {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes(resource),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('checkout-tracer', '0.9.0');
    const parent = tracer.startSpan('POST /orders', {
      kind: SpanKind.SERVER,
      startTime: [1_700_000_000, 0],
      attributes: { 'http.route': '/orders', 'http.response.status_code': 500, ratio: 0.25, retried: false, tags: ['a', 'b'] },
    });
    const child = tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, startTime: [1_700_000_000, 1_000] }, trace.setSpan(ROOT_CONTEXT, parent));
    child.end([1_700_000_000, 2_000]);
    parent.setStatus({ code: SpanStatusCode.ERROR, message: 'db down' });
    parent.end([1_700_000_000, 5_000]);
    await provider.forceFlush();
    await provider.shutdown();
    return { traceId: parent.spanContext().traceId, parent: parent.spanContext().spanId, child: child.spanContext().spanId };
  }

  test.each(variants)('$format, compression $compression', async ({ format, compression, contentType }) => {
    await using server = await startCaptureServer();
    const options = { url: `${server.url}/v1/traces`, compression };
    const ids = await exportSpans(format === 'json' ? new JsonTraceExporter(options) : new ProtoTraceExporter(options));

    const spans: SpanRecord[] = [];
    for (const request of server.requests) {
      expect(request.path).toBe('/v1/traces');
      checkHeaders(request, contentType, compression);
      const decoded = decodeTracesRequest(request.body, contentType, header(request, 'content-encoding'));
      expect(decoded.rejected).toBe(0);
      spans.push(...decoded.records);
    }
    const scope = { name: 'checkout-tracer', version: '0.9.0' };
    // Each span goes out in its own request and the two may arrive in either order.
    spans.sort((a, b) => a.name.localeCompare(b.name));
    expect(spans).toEqual([
      {
        traceId: ids.traceId, spanId: ids.parent, parentSpanId: '', name: 'POST /orders', kind: 'SERVER',
        startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000000005000',
        status: 'ERROR', statusMessage: 'db down', service: 'checkout',
        attributes: { 'http.route': '/orders', 'http.response.status_code': 500, ratio: 0.25, retried: false, tags: '["a","b"]' },
        resource, scope,
      },
      {
        traceId: ids.traceId, spanId: ids.child, parentSpanId: ids.parent, name: 'SELECT orders', kind: 'CLIENT',
        startTimeUnixNano: '1700000000000001000', endTimeUnixNano: '1700000000000002000',
        status: 'UNSET', statusMessage: '', service: 'checkout', attributes: {}, resource, scope,
      },
    ]);
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
