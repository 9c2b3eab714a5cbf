/** Hostile and broken metrics requests: refused whole (400/413), or rejected point by point (partial success). */
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { OtlpDecodeError, decodeMetricsRequest, defaultDecodeLimits, type OtlpDecodeStatus } from '../../../../src/telemetry/otlp/index.js';
import {
  POINT_TIME, anyInt, anyString, double, doublePoint, exponentialOf, fixed64, gaugeOf, histogramOf, int, key, kv, len, metric,
  metricsRequest, packedDoubles, packedFixed64, packedVarints, sfixed64, sint, str, sumOf, summaryOf, varint,
} from './proto-builder.js';

const PROTO = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const service = kv('service.name', anyString('cart'));
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

function expectRefused(decode: () => unknown, status: OtlpDecodeStatus, message?: RegExp): void {
  let result: unknown;
  try {
    result = decode();
  } catch (error) {
    expect(error).toBeInstanceOf(OtlpDecodeError);
    expect((error as OtlpDecodeError).status).toBe(status);
    if (message) expect((error as OtlpDecodeError).message).toMatch(message);
    return;
  }
  expect.fail(`expected a ${status} refusal, got ${JSON.stringify(result)}`);
}

/** A JSON request with the given metrics under service cart. */
const jsonRequest = (...metrics: unknown[]): Buffer => json({
  resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart' } }] }, scopeMetrics: [{ metrics }] }],
});
const gaugeJson = (...dataPoints: unknown[]): unknown => ({ name: 'g', gauge: { dataPoints } });
const at = { timeUnixNano: POINT_TIME.toString() };

/** A valid request with a point of every kind. */
const everyKind = metricsRequest([service], [
  metric('g', gaugeOf(doublePoint(1.5, len(7, kv('k', anyString('v')))))),
  metric('s', sumOf(1, true, Buffer.concat([fixed64(3, POINT_TIME), sfixed64(6, 7n)]))),
  metric('h', histogramOf(2, Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 3n), packedFixed64(6, [1, 2]), packedDoubles(7, [5])]))),
  metric('e', exponentialOf(2, Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 2n), sint(6, 1), len(8, sint(1, -1), packedVarints(2, [2]))]))),
  metric('q', summaryOf(Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 1n), len(6, double(1, 0.5), double(2, 3))]))),
]);

/** An AnyValue `depth` arrays deep around `inner`, built in linear time (one concat, not one per level). */
function nestedArrays(depth: number, inner: Buffer): Buffer {
  const prefixes: Buffer[] = [];
  let size = inner.length;
  for (let i = 0; i < depth; i += 1) {
    // AnyValue.array_value (5) → ArrayValue.values (1) → the AnyValue inside.
    const element = Buffer.concat([key(1, 2), varint(size)]);
    const array = Buffer.concat([key(5, 2), varint(size + element.length)]);
    prefixes.push(element, array);
    size += element.length + array.length;
  }
  return Buffer.concat([...prefixes.reverse(), inner]);
}

describe('limits', () => {
  test('more data points than maxRecords is 413, counted across metrics, in both formats', () => {
    const body = metricsRequest([service], [metric('a', gaugeOf(doublePoint(1), doublePoint(2))), metric('b', gaugeOf(doublePoint(3)))]);
    expect(decodeMetricsRequest(body, PROTO, undefined, { maxRecords: 3 }).records).toHaveLength(3);
    expectRefused(() => decodeMetricsRequest(body, PROTO, undefined, { maxRecords: 2 }), 413, /more than 2 records/);
    const point = { ...at, asDouble: 1 };
    const jsonBody = jsonRequest(gaugeJson(point, point), { name: 'b', histogram: { aggregationTemporality: 1, dataPoints: [at] } });
    expect(decodeMetricsRequest(jsonBody, JSON_TYPE, undefined, { maxRecords: 3 }).records).toHaveLength(3);
    expectRefused(() => decodeMetricsRequest(jsonBody, JSON_TYPE, undefined, { maxRecords: 2 }), 413);
  });

  test('a gzip bomb is 413', () => {
    const chunk = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 8 }, () => chunk));
    expectRefused(() => decodeMetricsRequest(bomb, PROTO, 'gzip'), 413, /inflates past/);
    expectRefused(() => decodeMetricsRequest(bomb, JSON_TYPE, 'gzip'), 413, /inflates past/);
  });

  test('a point with more buckets than maxBucketsPerPoint is rejected; a million forged ones cost no more than the limit', () => {
    const limits = { maxBucketsPerPoint: 3 };
    const fits = histogramOf(1, Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 3n), packedFixed64(6, [1, 1, 1]), packedDoubles(7, [1, 2])]));
    const over = histogramOf(1, Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 4n), packedFixed64(6, [1, 1, 1, 1]), packedDoubles(7, [1, 2, 3])]));
    // A million one-byte varints (zeroes) in one packed run.
    const million = exponentialOf(1, Buffer.concat([fixed64(3, POINT_TIME), len(8, len(2, Buffer.alloc(1_000_000)))]));
    const quantiles = summaryOf(Buffer.concat([fixed64(3, POINT_TIME), ...[0, 0.25, 0.5, 1].map((q) => len(6, double(1, q)))]));
    const decoded = decodeMetricsRequest(metricsRequest([service], [metric('fits', fits), metric('over', over), metric('million', million), metric('q', quantiles)]), PROTO, undefined, limits);
    expect(decoded.records.map((r) => r.name)).toEqual(['fits']);
    expect(decoded.errorMessage).toBe('3 data points rejected: data point has more than 3 buckets (3)');
    const jsonBody = jsonRequest({ name: 'j', histogram: { aggregationTemporality: 1, dataPoints: [{ ...at, count: 4, bucketCounts: [1, 1, 1, 1], explicitBounds: [1, 2, 3] }] } });
    expect(decodeMetricsRequest(jsonBody, JSON_TYPE, undefined, limits).rejected).toBe(1);
  });
});

describe('malformed protobuf is 400', () => {
  test('every truncation of a valid request', () => {
    expect(decodeMetricsRequest(everyKind, PROTO).records).toHaveLength(5);
    for (let cut = 1; cut < everyKind.length; cut += 1) {
      expectRefused(() => decodeMetricsRequest(everyKind.subarray(0, cut), PROTO), 400);
    }
  });

  test.each([
    ['as_double as a varint', gaugeOf(Buffer.concat([fixed64(3, POINT_TIME), int(4, 1)]))],
    ['time as a varint', gaugeOf(Buffer.concat([int(3, 5), double(4, 1)]))],
    ['temporality as a string', sumOf(1, false, doublePoint(1), str(2, 'DELTA'))],
    ['a data point that is a varint', len(5, int(1, 3))],
    ['exemplars as a fixed64', gaugeOf(doublePoint(1, fixed64(5, 1n)))],
    ['packed bucket counts not a multiple of 8 bytes', histogramOf(1, Buffer.concat([fixed64(3, POINT_TIME), len(6, Buffer.alloc(12))]))],
    ['bucket counts as a varint', histogramOf(1, Buffer.concat([fixed64(3, POINT_TIME), int(6, 1)]))],
    ['exponential scale as a fixed64', exponentialOf(1, Buffer.concat([fixed64(3, POINT_TIME), fixed64(6, 1n)]))],
    ['a quantile value as a varint', summaryOf(Buffer.concat([fixed64(3, POINT_TIME), len(6, int(2, 1))]))],
    ['a packed varint cut short', exponentialOf(1, Buffer.concat([fixed64(3, POINT_TIME), len(8, len(2, Buffer.from([0x80])))]))],
  ])('%s', (_name, data) => {
    expectRefused(() => decodeMetricsRequest(metricsRequest([service], [metric('m', data)]), PROTO), 400);
  });

  test('a group wire type and field number 0', () => {
    expectRefused(() => decodeMetricsRequest(metricsRequest([service], [metric('m', key(5, 3))]), PROTO), 400, /wire type 3/);
    expectRefused(() => decodeMetricsRequest(metricsRequest([service], [Buffer.concat([key(0, 0), varint(1)])]), PROTO), 400, /field number 0/);
  });

  test('invalid UTF-8 in a metric name, a unit or a point attribute', () => {
    const bad = Buffer.from([0x63, 0xff, 0xfe]);
    expectRefused(() => decodeMetricsRequest(metricsRequest([service], [Buffer.concat([len(1, bad), gaugeOf(doublePoint(1))])]), PROTO), 400, /UTF-8/);
    expectRefused(() => decodeMetricsRequest(metricsRequest([service], [metric('m', len(3, bad), gaugeOf(doublePoint(1)))]), PROTO), 400, /UTF-8/);
    const attribute = len(7, Buffer.concat([str(1, 'k'), len(2, len(1, bad))]));
    expectRefused(() => decodeMetricsRequest(metricsRequest([service], [metric('m', gaugeOf(doublePoint(1, attribute)))]), PROTO), 400, /UTF-8/);
  });
});

describe('malformed JSON is 400', () => {
  test.each([
    ['metrics not an array', json({ resourceMetrics: [{ scopeMetrics: [{ metrics: {} }] }] })],
    ['a metric name that is a number', jsonRequest({ name: 5 })],
    ['two data fields of one oneof', jsonRequest({ name: 'm', gauge: { dataPoints: [at] }, sum: { dataPoints: [at] } })],
    ['asDouble and asInt together', jsonRequest(gaugeJson({ ...at, asDouble: 1, asInt: 1 }))],
    ['asDouble a word', jsonRequest(gaugeJson({ ...at, asDouble: 'lots' }))],
    ['asInt a fraction', jsonRequest(gaugeJson({ ...at, asInt: 1.5 }))],
    ['asInt past int64', jsonRequest(gaugeJson({ ...at, asInt: '9223372036854775808' }))],
    ['count negative', jsonRequest({ name: 'h', histogram: { dataPoints: [{ ...at, count: '-1' }] } })],
    ['bucketCounts holding null', jsonRequest({ name: 'h', histogram: { dataPoints: [{ ...at, bucketCounts: [1, null] }] } })],
    ['explicitBounds a string', jsonRequest({ name: 'h', histogram: { dataPoints: [{ ...at, explicitBounds: '1,2' }] } })],
    ['scale past int32', jsonRequest({ name: 'e', exponentialHistogram: { dataPoints: [{ ...at, scale: 2 ** 31 }] } })],
    ['isMonotonic a string', jsonRequest({ name: 's', sum: { isMonotonic: 'yes', dataPoints: [at] } })],
    ['aggregationTemporality a name', jsonRequest({ name: 's', sum: { aggregationTemporality: 'AGGREGATION_TEMPORALITY_DELTA', dataPoints: [at] } })],
    ['exemplars an object', jsonRequest(gaugeJson({ ...at, asDouble: 1, exemplars: {} }))],
    ['quantileValues holding a number', jsonRequest({ name: 'q', summary: { dataPoints: [{ ...at, quantileValues: [0.5] }] } })],
    ['flags negative', jsonRequest(gaugeJson({ ...at, asDouble: 1, flags: -1 }))],
  ])('%s', (_name, body) => {
    expect(decodeMetricsRequest(jsonRequest(gaugeJson({ ...at, asDouble: 1 })), JSON_TYPE).records).toHaveLength(1);
    expectRefused(() => decodeMetricsRequest(body, JSON_TYPE), 400);
  });

  test('invalid UTF-8', () => {
    const body = Buffer.concat([Buffer.from('{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"'), Buffer.from([0xff]), Buffer.from('"}]}]}]}')]);
    expectRefused(() => decodeMetricsRequest(body, JSON_TYPE), 400, /UTF-8/);
  });
});

describe('bad points are rejected one by one (partial success)', () => {
  test('NaN and ±Infinity are rejected, in values, sums, bounds and quantiles, in both formats', () => {
    const body = metricsRequest([service], [
      metric('ok', gaugeOf(doublePoint(1))),
      metric('nan', gaugeOf(doublePoint(Number.NaN))),
      metric('inf', sumOf(1, false, doublePoint(Number.POSITIVE_INFINITY))),
      metric('h.sum', histogramOf(1, Buffer.concat([fixed64(3, POINT_TIME), double(5, Number.NEGATIVE_INFINITY)]))),
      metric('h.bound', histogramOf(1, Buffer.concat([fixed64(3, POINT_TIME), fixed64(4, 1n), packedFixed64(6, [0, 1]), packedDoubles(7, [Number.POSITIVE_INFINITY])]))),
      metric('q', summaryOf(Buffer.concat([fixed64(3, POINT_TIME), len(6, double(1, 0.5), double(2, Number.NaN))]))),
    ]);
    const decoded = decodeMetricsRequest(body, PROTO);
    expect(decoded.records.map((r) => r.name)).toEqual(['ok']);
    expect(decoded.errorMessage).toBe(
      '5 data points rejected: data point value is not a finite number (2); data point sum is not a finite number (1); '
      + 'histogram explicit bounds must be finite and increasing (1); data point quantile value is not a finite number (1)',
    );
    const jsonBody = jsonRequest(gaugeJson({ ...at, asDouble: 'NaN' }, { ...at, asDouble: '-Infinity' }, { ...at, asDouble: 2 }));
    expect(decodeMetricsRequest(jsonBody, JSON_TYPE)).toMatchObject({ rejected: 2, records: [{ value: 2 }] });
  });

  test('points that break the data model', () => {
    const at0 = fixed64(3, POINT_TIME);
    // Metric name → its data field, and why its one point is rejected.
    const broken: [string, Buffer, string][] = [
      ['no.value', gaugeOf(at0), 'number data point has no value'],
      ['no.time', gaugeOf(double(4, 1)), 'data point timeUnixNano is missing'],
      ['past.2262', gaugeOf(Buffer.concat([fixed64(3, 2n ** 63n), double(4, 1)])), 'data point time is past the year 2262'],
      ['unspecified', sumOf(0, true, doublePoint(1)), 'sum aggregation temporality must be 1 (delta) or 2 (cumulative)'],
      ['temporality.7', histogramOf(7, at0), 'histogram aggregation temporality must be 1 (delta) or 2 (cumulative)'],
      ['count.mismatch', histogramOf(1, Buffer.concat([at0, fixed64(4, 5n), packedFixed64(6, [1, 1]), packedDoubles(7, [1])])),
        'histogram count differs from the sum of its bucket counts'],
      ['bounds.order', histogramOf(1, Buffer.concat([at0, fixed64(4, 3n), packedFixed64(6, [1, 1, 1]), packedDoubles(7, [2, 1])])),
        'histogram explicit bounds must be finite and increasing'],
      ['bounds.length', histogramOf(1, Buffer.concat([at0, fixed64(4, 2n), packedFixed64(6, [1, 1]), packedDoubles(7, [1, 2])])),
        'histogram must have one more bucket count than explicit bounds'],
      ['count.2^53', histogramOf(1, Buffer.concat([at0, fixed64(4, 2n ** 53n)])), 'data point count is beyond 2^53'],
      ['scale.21', exponentialOf(1, Buffer.concat([at0, sint(6, 21)])), 'exponential histogram scale must be -10 to 20'],
      ['exp.count', exponentialOf(1, Buffer.concat([at0, fixed64(4, 9n), fixed64(7, 1n), len(9, packedVarints(2, [2]))])),
        'exponential histogram count differs from its zero count plus its bucket counts'],
      ['quantile.2', summaryOf(Buffer.concat([at0, len(6, double(1, 2), double(2, 1))])), 'summary quantile must be from 0 to 1'],
    ];
    for (const [name, data, reason] of broken) {
      const decoded = decodeMetricsRequest(metricsRequest([service], [metric('good', gaugeOf(doublePoint(1))), metric(name, data)]), PROTO);
      expect(decoded.records.map((r) => r.name), name).toEqual(['good']);
      expect(decoded.errorMessage, name).toBe(`1 data point rejected: ${reason} (1)`);
    }
    const nameless = metricsRequest([service], [gaugeOf(doublePoint(1))]);
    expect(decodeMetricsRequest(nameless, PROTO).errorMessage).toBe('1 data point rejected: metric name is missing (1)');

    // All at once: one count, the first five reasons named, the rest summed up.
    const all = decodeMetricsRequest(metricsRequest([service], broken.map(([name, data]) => metric(name, data))), PROTO);
    expect(all.records).toEqual([]);
    expect(all.rejected).toBe(broken.length);
    expect(all.errorMessage).toMatch(/^12 data points rejected: number data point has no value \(1\);.*; and 7 other reasons$/);
  });

  test('huge and deeply nested attributes reject their point; a bad resource takes every point under it', () => {
    const huge = len(7, kv('k', anyString('x'.repeat(defaultDecodeLimits.maxAttributeValueLength + 1))));
    const deep = nestedArrays(20_000, anyInt(1));
    const decoded = decodeMetricsRequest(metricsRequest([service], [
      metric('m', gaugeOf(doublePoint(1), doublePoint(2, huge), doublePoint(3, len(7, kv('deep', deep))))),
    ]), PROTO);
    expect(decoded.records.map((r) => r.value)).toEqual([1]);
    expect(decoded.errorMessage).toBe(
      `2 data points rejected: data point attribute value longer than ${defaultDecodeLimits.maxAttributeValueLength} characters (1); data point attribute nested deeper than the limit (1)`,
    );
    const badResource = metricsRequest([kv('blob', anyString('y'.repeat(100)))], [metric('a', gaugeOf(doublePoint(1), doublePoint(2))), metric('b', gaugeOf(doublePoint(3)))]);
    const good = metricsRequest([service], [metric('c', gaugeOf(doublePoint(4)))]);
    expect(decodeMetricsRequest(Buffer.concat([badResource, good]), PROTO, undefined, { maxAttributeValueLength: 50 })).toMatchObject({
      records: [{ name: 'c', service: 'cart' }], rejected: 3, errorMessage: '3 data points rejected: resource attribute value longer than 50 characters (3)',
    });
  });

  test('values nested 100,000 levels deep in JSON', () => {
    const deep = `${'{"arrayValue":{"values":['.repeat(100_000)}{"intValue":"1"}${']}}'.repeat(100_000)}`;
    const text = `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"1","asDouble":1},`
      + `{"timeUnixNano":"1","asDouble":2,"attributes":[{"key":"deep","value":${deep}}]}]}}]}]}]}`;
    expect(decodeMetricsRequest(Buffer.from(text), JSON_TYPE)).toMatchObject({ records: [{ value: 1 }], rejected: 1 });
  });
});
