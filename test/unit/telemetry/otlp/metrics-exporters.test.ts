/**
 * Metric bodies produced by the official OpenTelemetry JS SDK and exporters (JSON and protobuf,
 * plain and gzip, cumulative and delta), captured on a local socket and decoded into the exact
 * data points Flotilla keeps.
 */
import { ValueType } from '@opentelemetry/api';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { describe, expect, test } from 'vitest';
import { decodeMetricsRequest } from '../../../../src/telemetry/otlp/index.js';
import type { ExponentialBuckets, MetricPointRecord } from '../../../../src/telemetry/types.js';
import { startCaptureServer, type CapturedRequest } from './capture-server.js';

const resource = { 'service.name': 'checkout', 'deployment.environment': 'test' };
const scope = { name: 'checkout-meter', version: '2.0.0' };
const EXP_VALUES = [1, 2, 4, 1000];

const variants = [
  { format: 'json', compression: CompressionAlgorithm.NONE, temporality: 'CUMULATIVE' },
  { format: 'json', compression: CompressionAlgorithm.GZIP, temporality: 'CUMULATIVE' },
  { format: 'protobuf', compression: CompressionAlgorithm.NONE, temporality: 'CUMULATIVE' },
  { format: 'protobuf', compression: CompressionAlgorithm.GZIP, temporality: 'CUMULATIVE' },
  { format: 'json', compression: CompressionAlgorithm.NONE, temporality: 'DELTA' },
  { format: 'protobuf', compression: CompressionAlgorithm.GZIP, temporality: 'DELTA' },
] as const;

function header(request: CapturedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Records a counter, an up-down counter, an observable gauge, a histogram and an exponential histogram, and exports them once. */
async function exportMetrics(exporter: PushMetricExporter, requests: CapturedRequest[]): Promise<CapturedRequest[]> {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes(resource),
    readers: [reader],
    views: [
      { instrumentName: 'http.server.duration', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [10, 50, 100] } } },
      { instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } },
    ],
  });
  const meter = provider.getMeter(scope.name, scope.version);
  const orders = meter.createCounter('orders.placed', { description: 'Orders placed', unit: '{order}' });
  orders.add(3, { 'payment.method': 'card' });
  orders.add(2.5, { 'payment.method': 'card' });
  orders.add(1, { 'payment.method': 'cash' });
  const items = meter.createUpDownCounter('cart.items', { unit: '{item}', valueType: ValueType.INT });
  items.add(5);
  items.add(-7);
  meter.createObservableGauge('queue.depth', { description: 'Messages waiting', unit: '{message}' }).addCallback((result) => {
    result.observe(7.5, { queue: 'orders' });
    result.observe(-1.25, { queue: 'dead-letter' });
  });
  const duration = meter.createHistogram('http.server.duration', { unit: 'ms' });
  for (const ms of [5, 20, 20, 75, 500]) duration.record(ms, { 'http.route': '/orders' });
  const size = meter.createHistogram('payload.size', { unit: 'By' });
  for (const bytes of [...EXP_VALUES, 0]) size.record(bytes);
  await provider.forceFlush();
  // Shutting down flushes once more; only the first export is checked.
  const sent = requests.slice();
  await provider.shutdown();
  return sent;
}

/** The bucket of a positive value at `scale`: values in (base^i, base^(i+1)] go to index i, base = 2^(2^-scale). */
function exponentialIndex(value: number, scale: number): number {
  return Math.ceil(Math.log2(value) * 2 ** scale) - 1;
}

describe('metrics from the official exporters', () => {
  test.each(variants)('$format, compression $compression, $temporality', async ({ format, compression, temporality }) => {
    await using server = await startCaptureServer();
    const options = {
      url: `${server.url}/v1/metrics`,
      compression,
      temporalityPreference: temporality === 'DELTA' ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE,
    };
    const before = BigInt(Date.now() - 1_000) * 1_000_000n;
    const requests = await exportMetrics(format === 'json' ? new JsonMetricExporter(options) : new ProtoMetricExporter(options), server.requests);
    const after = BigInt(Date.now() + 1_000) * 1_000_000n;

    expect(requests).toHaveLength(1);
    const [request] = requests as [CapturedRequest];
    expect(request.path).toBe('/v1/metrics');
    const contentType = format === 'json' ? 'application/json' : 'application/x-protobuf';
    expect(header(request, 'content-type')).toBe(contentType);
    expect(header(request, 'content-encoding')).toBe(compression === CompressionAlgorithm.GZIP ? 'gzip' : undefined);
    const decoded = decodeMetricsRequest(request.body, contentType, header(request, 'content-encoding'));
    expect(decoded.rejected).toBe(0);
    expect(decoded.errorMessage).toBe('');

    // Times come from the SDK's clock: each must be in the test's window, and the end not before the start.
    for (const point of decoded.records) {
      const time = BigInt(point.timeUnixNano);
      const start = BigInt(point.startTimeUnixNano);
      expect(time >= before && time <= after, `${point.name} time ${time}`).toBe(true);
      expect(start >= before && start <= time, `${point.name} start ${start}`).toBe(true);
    }
    const points = decoded.records
      .map(({ timeUnixNano: _t, startTimeUnixNano: _s, ...rest }) => rest)
      .sort((a, b) => a.name.localeCompare(b.name) || JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));

    // The SDK keeps an up-down counter cumulative even when delta is preferred (it can go down).
    const base = { flags: 0, service: 'checkout', resource, scope, value: null, count: null, sum: null, min: null, max: null, buckets: null, quantiles: null };
    const exp = points.find((p) => p.name === 'payload.size');
    const expBuckets = exp?.buckets as ExponentialBuckets;
    expect(points).toEqual([
      {
        ...base, name: 'cart.items', description: '', unit: '{item}', kind: 'sum', temporality: 'CUMULATIVE', monotonic: false,
        value: -2, attributes: {},
      },
      {
        ...base, name: 'http.server.duration', description: '', unit: 'ms', kind: 'histogram', temporality, monotonic: false,
        count: 5, sum: 620, min: 5, max: 500, buckets: { bounds: [10, 50, 100], counts: [1, 2, 1, 1] }, attributes: { 'http.route': '/orders' },
      },
      {
        ...base, name: 'orders.placed', description: 'Orders placed', unit: '{order}', kind: 'sum', temporality, monotonic: true,
        value: 5.5, attributes: { 'payment.method': 'card' },
      },
      {
        ...base, name: 'orders.placed', description: 'Orders placed', unit: '{order}', kind: 'sum', temporality, monotonic: true,
        value: 1, attributes: { 'payment.method': 'cash' },
      },
      {
        ...base, name: 'payload.size', description: '', unit: 'By', kind: 'exponential_histogram', temporality, monotonic: false,
        count: 5, sum: 1007, min: 0, max: 1000, attributes: {},
        buckets: { scale: expBuckets.scale, zeroCount: 1, zeroThreshold: 0, positive: expBuckets.positive, negative: { offset: 0, counts: [] } },
      },
      {
        ...base, name: 'queue.depth', description: 'Messages waiting', unit: '{message}', kind: 'gauge', temporality: 'UNSPECIFIED', monotonic: false,
        value: -1.25, attributes: { queue: 'dead-letter' },
      },
      {
        ...base, name: 'queue.depth', description: 'Messages waiting', unit: '{message}', kind: 'gauge', temporality: 'UNSPECIFIED', monotonic: false,
        value: 7.5, attributes: { queue: 'orders' },
      },
    ] satisfies Omit<MetricPointRecord, 'timeUnixNano' | 'startTimeUnixNano'>[]);

    // Each recorded value sits in the bucket its scale and offset say (the offset is negative here: ZigZag in protobuf).
    const { scale, positive } = expBuckets;
    expect(scale).toBeGreaterThan(0);
    expect(positive.offset).toBe(exponentialIndex(1, scale));
    const expected = Array.from<number>({ length: positive.counts.length }).fill(0);
    for (const value of EXP_VALUES) {
      const at = exponentialIndex(value, scale) - positive.offset;
      expected[at] = (expected[at] ?? 0) + 1;
    }
    expect(positive.counts).toEqual(expected);
    expect(positive.counts.at(-1)).toBe(1); // the last bucket holds the largest value
  });
});
