/**
 * Metric data points the JS SDK does not send (summaries, negative exponential buckets,
 * exemplars, unpacked lists, flags), hand-built in protobuf and OTLP/JSON: the same request in
 * both encodings must give the same records.
 */
import { describe, expect, test } from 'vitest';
import { decodeMetricsRequest } from '../../../../src/telemetry/otlp/index.js';
import type { MetricPointRecord } from '../../../../src/telemetry/types.js';
import {
  POINT_TIME, anyString, double, doublePoint, exponentialOf, fixed64, gaugeOf, hex, histogramOf, int, kv, len, metric, metricsRequest,
  packedDoubles, packedFixed64, packedVarints, sfixed64, sint, str, sumOf, summaryOf,
} from './proto-builder.js';

const PROTO = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const service = kv('service.name', anyString('cart'));
const START = POINT_TIME - 60_000_000_000n;

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
/** An OTLP/JSON metrics request with one resource (service cart) and one scope. */
const jsonRequest = (...metrics: unknown[]): Buffer => json({
  resourceMetrics: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart' } }] },
    scopeMetrics: [{ scope: { name: 'scope' }, metrics }],
  }],
});

const base = {
  description: '', unit: '', monotonic: false, timeUnixNano: POINT_TIME.toString(), startTimeUnixNano: '0',
  value: null, count: null, sum: null, min: null, max: null, buckets: null, quantiles: null, flags: 0,
  service: 'cart', attributes: {}, resource: { 'service.name': 'cart' }, scope: { name: 'scope', version: '' },
} as const;

/** One exemplar with every field set: it must be parsed past, not kept. */
const exemplarProto = Buffer.concat([
  len(7, kv('user', anyString('u1'))), fixed64(2, POINT_TIME), double(3, 4.5),
  hex(4, 'b7ad6b7169203331'), hex(5, '0af7651916cd43dd8448eb211c80319c'),
]);
const exemplarJson = {
  filteredAttributes: [{ key: 'user', value: { stringValue: 'u1' } }], timeUnixNano: POINT_TIME.toString(), asDouble: 4.5,
  spanId: 'b7ad6b7169203331', traceId: '0af7651916cd43dd8448eb211c80319c',
};

describe('exponential histogram', () => {
  const expected: MetricPointRecord = {
    ...base, name: 'payload.size', unit: 'By', kind: 'exponential_histogram', temporality: 'DELTA',
    startTimeUnixNano: START.toString(), count: 10, sum: -3.5, min: -40, max: 12,
    buckets: { scale: -2, zeroCount: 2, zeroThreshold: 0.001, positive: { offset: -3, counts: [1, 2] }, negative: { offset: 5, counts: [0, 4, 1] } },
    attributes: { host: 'a' },
  };

  test('protobuf: negative scale and offset (ZigZag), both sides, zero threshold, exemplars skipped', () => {
    const point = Buffer.concat([
      len(1, kv('host', anyString('a'))), fixed64(2, START), fixed64(3, POINT_TIME), fixed64(4, 10n), double(5, -3.5),
      sint(6, -2), fixed64(7, 2n), len(8, sint(1, -3), packedVarints(2, [1, 2])), len(9, sint(1, 5), packedVarints(2, [0, 4, 1])),
      int(10, 0), len(11, exemplarProto), double(12, -40), double(13, 12), double(14, 0.001),
    ]);
    const body = metricsRequest([service], [metric('payload.size', str(3, 'By'), exponentialOf(1, point))]);
    expect(decodeMetricsRequest(body, PROTO)).toEqual({ records: [expected], rejected: 0, errorMessage: '' });
  });

  test('JSON: 64-bit counts as strings or numbers', () => {
    const body = jsonRequest({
      name: 'payload.size', unit: 'By',
      exponentialHistogram: {
        aggregationTemporality: 1,
        dataPoints: [{
          attributes: [{ key: 'host', value: { stringValue: 'a' } }], startTimeUnixNano: START.toString(), timeUnixNano: POINT_TIME.toString(),
          count: '10', sum: -3.5, scale: -2, zeroCount: 2, zeroThreshold: 0.001, min: -40, max: '12',
          positive: { offset: -3, bucketCounts: ['1', 2] }, negative: { offset: 5, bucketCounts: [0, '4', 1] },
          exemplars: [exemplarJson],
        }],
      },
    });
    expect(decodeMetricsRequest(body, JSON_TYPE)).toEqual({ records: [expected], rejected: 0, errorMessage: '' });
  });
});

describe('summary', () => {
  const expected: MetricPointRecord = {
    ...base, name: 'rpc.latency', unit: 's', kind: 'summary', temporality: 'UNSPECIFIED', startTimeUnixNano: START.toString(),
    count: 100, sum: 2500.5, quantiles: [{ quantile: 0, value: 1.5 }, { quantile: 0.5, value: 20 }, { quantile: 1, value: 300 }],
    attributes: { method: 'Get' },
  };

  test('protobuf', () => {
    const quantile = (q: number, v: number): Buffer => len(6, double(1, q), double(2, v));
    const point = Buffer.concat([
      len(7, kv('method', anyString('Get'))), fixed64(2, START), fixed64(3, POINT_TIME), fixed64(4, 100n), double(5, 2500.5),
      // A quantile of 0 is the protobuf default: a serializer leaves it out.
      len(6, double(2, 1.5)), quantile(0.5, 20), quantile(1, 300),
    ]);
    const body = metricsRequest([service], [metric('rpc.latency', str(3, 's'), summaryOf(point))]);
    expect(decodeMetricsRequest(body, PROTO)).toEqual({ records: [expected], rejected: 0, errorMessage: '' });
  });

  test('JSON, with the default quantile left out', () => {
    const body = jsonRequest({
      name: 'rpc.latency', unit: 's',
      summary: {
        dataPoints: [{
          attributes: [{ key: 'method', value: { stringValue: 'Get' } }], startTimeUnixNano: START.toString(), timeUnixNano: POINT_TIME.toString(),
          count: 100, sum: 2500.5, quantileValues: [{ value: 1.5 }, { quantile: 0.5, value: 20 }, { quantile: 1, value: '300' }],
        }],
      },
    });
    expect(decodeMetricsRequest(body, JSON_TYPE)).toEqual({ records: [expected], rejected: 0, errorMessage: '' });
  });
});

describe('number points, lists and flags', () => {
  test('as_int is exact to 2^53 and rounds past it; as_double; negative ints', () => {
    const body = metricsRequest([service], [
      metric('bytes.sent', sumOf(2, true,
        Buffer.concat([fixed64(3, POINT_TIME), sfixed64(6, 2n ** 53n - 1n)]),
        Buffer.concat([fixed64(3, POINT_TIME), sfixed64(6, 2n ** 60n + 1n)]),
      )),
      metric('temperature', gaugeOf(Buffer.concat([fixed64(3, POINT_TIME), sfixed64(6, -5n)]), doublePoint(-0.5))),
    ]);
    const decoded = decodeMetricsRequest(body, PROTO);
    expect(decoded.rejected).toBe(0);
    expect(decoded.records.map((r) => [r.name, r.kind, r.temporality, r.monotonic, r.value])).toEqual([
      ['bytes.sent', 'sum', 'CUMULATIVE', true, 2 ** 53 - 1],
      ['bytes.sent', 'sum', 'CUMULATIVE', true, 2 ** 60],
      ['temperature', 'gauge', 'UNSPECIFIED', false, -5],
      ['temperature', 'gauge', 'UNSPECIFIED', false, -0.5],
    ]);
  });

  test('repeated numbers one per tag decode as packed ones do', () => {
    const head = Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 6n), double(5, 60)]);
    const packed = Buffer.concat([head, packedFixed64(6, [1, 2, 3]), packedDoubles(7, [1, 10])]);
    const unpacked = Buffer.concat([head, fixed64(6, 1n), fixed64(6, 2n), double(7, 1), fixed64(6, 3n), double(7, 10)]);
    const decode = (point: Buffer): MetricPointRecord[] =>
      decodeMetricsRequest(metricsRequest([service], [metric('h', histogramOf(2, point))]), PROTO).records;
    expect(decode(packed)).toEqual(decode(unpacked));
    expect(decode(unpacked)[0]).toMatchObject({ count: 6, sum: 60, min: null, max: null, buckets: { bounds: [1, 10], counts: [1, 2, 3] } });
  });

  test('a histogram without buckets keeps its count and sum', () => {
    const body = metricsRequest([service], [metric('h', histogramOf(1, Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 4n), double(5, 8)])))]);
    expect(decodeMetricsRequest(body, PROTO).records[0]).toMatchObject({ count: 4, sum: 8, buckets: { bounds: [], counts: [] } });
  });

  test('a point flagged "no recorded value" is kept without values, whatever they were', () => {
    const body = metricsRequest([service], [
      metric('up', gaugeOf(Buffer.concat([fixed64(3, POINT_TIME), int(8, 1)]))),
      metric('h', histogramOf(2, Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 3n), double(5, Number.NaN), int(10, 1)]))),
    ]);
    const decoded = decodeMetricsRequest(body, PROTO);
    expect(decoded.rejected).toBe(0);
    expect(decoded.records.map((r) => [r.name, r.flags, r.value, r.count, r.sum, r.buckets])).toEqual([
      ['up', 1, null, null, null, null],
      ['h', 1, null, null, null, null],
    ]);
  });

  test('protobuf: the name may follow the data; a later data field replaces another, the same one sent twice adds up', () => {
    const late = Buffer.concat([gaugeOf(doublePoint(1)), str(1, 'late.name')]);
    const replaced = metric('replaced', gaugeOf(doublePoint(1)), sumOf(1, false, doublePoint(2)));
    const merged = metric('merged', gaugeOf(doublePoint(3)), gaugeOf(doublePoint(4)));
    const decoded = decodeMetricsRequest(metricsRequest([service], [late, replaced, merged]), PROTO);
    expect(decoded.records.map((r) => [r.name, r.kind, r.value])).toEqual([
      ['late.name', 'gauge', 1], ['replaced', 'sum', 2], ['merged', 'gauge', 3], ['merged', 'gauge', 4],
    ]);
  });

  test('unknown fields are skipped (Metric.metadata, future fields) in both formats', () => {
    const body = metricsRequest([service], [metric('m', len(12, kv('k', anyString('v'))), str(99, 'future'), gaugeOf(doublePoint(1, int(77, 5))))]);
    expect(decodeMetricsRequest(body, PROTO).records.map((r) => r.value)).toEqual([1]);
    const jsonBody = jsonRequest({ name: 'm', metadata: [{ key: 'k', value: {} }], future: true, gauge: { dataPoints: [{ timeUnixNano: '1', asDouble: 2, later: {} }] } });
    expect(decodeMetricsRequest(jsonBody, JSON_TYPE).records.map((r) => r.value)).toEqual([2]);
  });

  test('an empty request, and metrics without data, give no points', () => {
    expect(decodeMetricsRequest(Buffer.alloc(0), PROTO)).toEqual({ records: [], rejected: 0, errorMessage: '' });
    expect(decodeMetricsRequest(metricsRequest([service], [metric('no.data')]), PROTO).records).toEqual([]);
    for (const body of ['{}', '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x"}]}]}]}', '{"resourceMetrics":null}']) {
      expect(decodeMetricsRequest(Buffer.from(body), JSON_TYPE)).toEqual({ records: [], rejected: 0, errorMessage: '' });
    }
  });
});
