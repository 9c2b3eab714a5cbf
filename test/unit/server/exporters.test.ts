/**
 * The official OpenTelemetry JS exporters, unchanged, against a running collector over real HTTP:
 * every signal, protobuf and JSON, gzip and not. Each export must report success, and what it sent
 * must be readable through the query API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCollector, type CollectorHandle } from '../../../src/server/index.js';

let dir: string;
let collector: CollectorHandle;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-exporters-'));
  collector = await startCollector({ dataDir: dir, hosts: ['127.0.0.1'], port: 0, retention: {} });
});

afterAll(async () => {
  await collector.close();
  rmSync(dir, { recursive: true, force: true });
});

async function api<T>(url: string): Promise<T> {
  const response = await fetch(new URL(url, collector.url), { headers: { authorization: `Bearer ${collector.token}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

/** Wraps an exporter to record every export's result: the collector's answer as the exporter understood it. */
function recording<E extends { export: (items: never, done: (result: ExportResult) => void) => void }>(exporter: E, results: ExportResult[]): E {
  const original = exporter.export.bind(exporter);
  exporter.export = (items, done) => original(items, (result) => {
    results.push(result);
    done(result);
  });
  return exporter;
}

const variants = [
  { format: 'json', compression: CompressionAlgorithm.NONE },
  { format: 'json', compression: CompressionAlgorithm.GZIP },
  { format: 'protobuf', compression: CompressionAlgorithm.NONE },
  { format: 'protobuf', compression: CompressionAlgorithm.GZIP },
] as const;

describe.each(variants)('the official exporters, $format, compression $compression', ({ format, compression }) => {
  const tag = `${format}-${compression}`;

  test('logs are stored and searchable', async () => {
    const results: ExportResult[] = [];
    const options = { url: `${collector.url}/v1/logs`, compression };
    const exporter = recording(format === 'json' ? new JsonLogExporter(options) : new ProtoLogExporter(options), results);
    const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': `logs-${tag}` }), processors: [new BatchLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('test');
    for (let i = 0; i < 50; i += 1) logger.emit({ severityNumber: SeverityNumber.WARN, body: `payment retried attempt ${i}`, attributes: { attempt: i } });
    await provider.shutdown();
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((result) => result.code === ExportResultCode.SUCCESS)).toBe(true);
    const { logs } = await api<{ logs: { body: string; severityText: string }[] }>(`/api/logs?service=logs-${tag}&grep=retried&limit=100`);
    expect(logs).toHaveLength(50);
    expect(logs[0]).toMatchObject({ body: 'payment retried attempt 49', severityText: 'WARN' });
  });

  test('spans are stored and form a trace', async () => {
    const results: ExportResult[] = [];
    const options = { url: `${collector.url}/v1/traces`, compression };
    const exporter = recording(format === 'json' ? new JsonTraceExporter(options) : new ProtoTraceExporter(options), results);
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': `traces-${tag}` }), spanProcessors: [new BatchSpanProcessor(exporter)] });
    const tracer = provider.getTracer('test');
    const root = tracer.startSpan('GET /cart', { kind: SpanKind.SERVER });
    tracer.startSpan('SELECT cart', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } }, trace.setSpan(ROOT_CONTEXT, root)).end();
    root.end();
    await provider.shutdown();
    expect(results.every((result) => result.code === ExportResultCode.SUCCESS)).toBe(true);
    const { traces } = await api<{ traces: { traceId: string; spans: number; root: { operation: string } }[] }>(`/api/traces?service=traces-${tag}`);
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatchObject({ spans: 2, root: { operation: 'GET /cart' } });
  });

  test('metrics are accepted', async () => {
    const results: ExportResult[] = [];
    const options = { url: `${collector.url}/v1/metrics`, compression };
    const exporter = recording(format === 'json' ? new JsonMetricExporter(options) : new ProtoMetricExporter(options), results);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': `metrics-${tag}` }), readers: [reader] });
    const meter = provider.getMeter('test');
    meter.createCounter('orders.placed').add(3, { sku: 'widget' });
    meter.createHistogram('order.value').record(42.5);
    await provider.shutdown();
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((result) => result.code === ExportResultCode.SUCCESS)).toBe(true);
  });
});

test('the stats count what every exporter sent', async () => {
  const stats = await api<{ store: { logs: { stored: number }; spans: { stored: number }; metrics: { stored: number } } }>('/api/stats');
  expect(stats.store.logs.stored).toBe(50 * variants.length);
  expect(stats.store.spans.stored).toBe(2 * variants.length);
  expect(stats.store.metrics.stored).toBe(2 * variants.length);
});
