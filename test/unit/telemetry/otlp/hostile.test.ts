/** Hostile and broken requests: refused whole with the right status, or rejected record by record. */
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import {
  OtlpDecodeError, decodeLogsRequest, decodeTracesRequest, defaultDecodeLimits, type OtlpDecodeStatus,
} from '../../../../src/telemetry/otlp/index.js';
import {
  anyArray, anyInt, anyString, fixed64, hex, int, key, kv, len, logRecord, logsRequest, span, str, tracesRequest, varint,
} from './proto-builder.js';

const PROTO = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const service = kv('service.name', anyString('cart'));

/** Asserts that decoding throws OtlpDecodeError with `status`, so no record can come out of it. */
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

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('media type and encoding', () => {
  test('other content types are 415', () => {
    expectRefused(() => decodeLogsRequest(Buffer.from('hi'), 'text/plain'), 415, /Content-Type/);
    expectRefused(() => decodeTracesRequest(Buffer.alloc(0), 'application/grpc'), 415);
  });

  test('parameters and case in the content type are ignored', () => {
    expect(decodeLogsRequest(Buffer.from('{}'), 'Application/JSON; charset=utf-8')).toEqual({ records: [], rejected: 0, errorMessage: '' });
    expect(decodeLogsRequest(Buffer.alloc(0), PROTO)).toEqual({ records: [], rejected: 0, errorMessage: '' });
  });

  test('content encodings other than gzip are 415', () => {
    expectRefused(() => decodeLogsRequest(Buffer.from('{}'), JSON_TYPE, 'br'), 415, /Content-Encoding/);
  });

  test('a body that is not gzip under Content-Encoding: gzip is 400', () => {
    expectRefused(() => decodeLogsRequest(Buffer.from('{}'), JSON_TYPE, 'gzip'), 400, /gzip/);
    const truncated = gzipSync(json({ resourceLogs: [] })).subarray(0, 12);
    expectRefused(() => decodeLogsRequest(truncated, JSON_TYPE, 'gzip'), 400);
  });
});

describe('size limits', () => {
  test('a body over maxBodyBytes is 413 before it is parsed', () => {
    expectRefused(() => decodeLogsRequest(Buffer.from('{}'.padEnd(101, ' ')), JSON_TYPE, undefined, { maxBodyBytes: 100 }), 413);
  });

  test('a gzip bomb is 413: 1 GiB of zeroes stops inflating at the cap', () => {
    // 1 GiB of zeroes deflates to about 1 MiB; built from a 1 MiB chunk repeated, to keep the test light.
    const chunk = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => chunk)); // gzip allows concatenated members
    expect(bomb.length).toBeLessThan(defaultDecodeLimits.maxBodyBytes);
    const started = performance.now();
    expectRefused(() => decodeLogsRequest(bomb, PROTO, 'gzip'), 413, /inflates past/);
    // Inflating the full GiB takes seconds; stopping at 16 MiB takes a few tens of milliseconds.
    expect(performance.now() - started).toBeLessThan(1500);
  });

  test('an uncompressed body over maxDecompressedBytes is 413', () => {
    expectRefused(() => decodeLogsRequest(Buffer.alloc(200), PROTO, undefined, { maxDecompressedBytes: 100 }), 413);
  });

  test('more records than maxRecords is 413, in both formats', () => {
    const body = logsRequest([service], [logRecord('a'), logRecord('b'), logRecord('c')]);
    expect(decodeLogsRequest(body, PROTO, undefined, { maxRecords: 3 }).records).toHaveLength(3);
    expectRefused(() => decodeLogsRequest(body, PROTO, undefined, { maxRecords: 2 }), 413, /more than 2 records/);
    const spans = json({ resourceSpans: [{ scopeSpans: [{ spans: [{}, {}, {}] }] }] });
    expectRefused(() => decodeTracesRequest(spans, JSON_TYPE, undefined, { maxRecords: 2 }), 413);
  });
});

describe('malformed protobuf is 400', () => {
  test('garbage bytes', () => {
    expectRefused(() => decodeLogsRequest(Buffer.from('this is not protobuf at all'), PROTO), 400);
    expectRefused(() => decodeTracesRequest(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), PROTO), 400, /varint/);
  });

  test('every truncation of a valid request', () => {
    const body = logsRequest([service], [logRecord('first'), logRecord('second', int(2, 9))]);
    expect(decodeLogsRequest(body, PROTO).records).toHaveLength(2);
    for (let cut = 1; cut < body.length; cut += 1) {
      expectRefused(() => decodeLogsRequest(body.subarray(0, cut), PROTO), 400);
    }
  });

  test('a length that points past the end', () => {
    expectRefused(() => decodeLogsRequest(Buffer.concat([key(1, 2), varint(1_000_000), Buffer.from('abc')]), PROTO), 400, /truncated/);
  });

  test('a known field with the wrong wire type, a group, field number 0', () => {
    expectRefused(() => decodeLogsRequest(logsRequest([service], [Buffer.concat([int(1, 5)])]), PROTO), 400, /wire type/);
    expectRefused(() => decodeLogsRequest(Buffer.concat([key(7, 3)]), PROTO), 400, /wire type 3/);
    expectRefused(() => decodeLogsRequest(Buffer.concat([key(0, 0), varint(1)]), PROTO), 400, /field number 0/);
  });

  test('invalid UTF-8 in a string field', () => {
    const badString = len(1, Buffer.from([0x63, 0x61, 0xff, 0xfe]));
    expectRefused(() => decodeLogsRequest(logsRequest([kv('service.name', badString)], [logRecord('x')]), PROTO), 400, /UTF-8/);
    expectRefused(() => decodeTracesRequest(tracesRequest([], [span('x', len(9, Buffer.concat([len(1, Buffer.from([0xc3])), len(2, anyInt(1))])))]), PROTO), 400, /UTF-8/);
  });

  test('unknown fields are skipped, as newer OTLP versions add them', () => {
    const body = logsRequest([service], [logRecord('ok', str(99, 'future'), int(98, 1))]);
    expect(decodeLogsRequest(Buffer.concat([body, str(42, 'top-level future field')]), PROTO).records.map((r) => r.body)).toEqual(['ok']);
  });
});

describe('malformed JSON is 400', () => {
  const valid = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' } }] }] }] };

  test.each([
    ['not JSON', Buffer.from('{"resourceLogs": [')],
    ['empty', Buffer.alloc(0)],
    ['an array at the root', json([valid])],
    ['resourceLogs not an array', json({ resourceLogs: {} })],
    ['a record that is a string', json({ resourceLogs: [{ scopeLogs: [{ logRecords: ['x'] }] }] })],
    ['timeUnixNano a boolean', json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: true }] }] }] })],
    ['timeUnixNano negative', json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '-1' }] }] }] })],
    ['timeUnixNano over uint64', json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '18446744073709551616' }] }] }] })],
    ['stringValue a number', json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 5 } }] }] }] })],
    ['severityNumber a name', json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'SEVERITY_NUMBER_INFO' }] }] }] })],
    ['intValue a fraction', json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { intValue: 1.5 } }] }] }] })],
    ['bytesValue not base64', json({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { bytesValue: '*?' } }] }] }] })],
    ['attributes an object', json({ resourceLogs: [{ resource: { attributes: { 'service.name': 'x' } } }] })],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"'), Buffer.from([0xff]), Buffer.from('"}}]}]}]}')])],
  ])('%s', (_name, body) => {
    expect(decodeLogsRequest(json(valid), JSON_TYPE).records).toHaveLength(1);
    expectRefused(() => decodeLogsRequest(body, JSON_TYPE), 400);
  });
});

describe('bad records are rejected one by one (partial success)', () => {
  // Built in a loop: recursion in the test itself would overflow long before the decoder is tried.
  const nested = (depth: number, inner: Buffer): Buffer => {
    let value = inner;
    for (let i = 0; i < depth; i += 1) value = anyArray(value);
    return value;
  };

  test('values nested past maxNestingDepth, protobuf, even 20,000 levels deep', () => {
    const limit = defaultDecodeLimits.maxNestingDepth;
    const body = logsRequest([service], [
      logRecord('at the limit', len(6, kv('deep', nested(limit, anyInt(1))))),
      logRecord('past the limit', len(6, kv('deep', nested(limit + 1, anyInt(1))))),
      logRecord('far past', len(5, nested(20_000, anyInt(1)))),
    ]);
    const decoded = decodeLogsRequest(body, PROTO);
    expect(decoded.records.map((r) => r.body)).toEqual(['at the limit']);
    expect(decoded.records[0]?.attributes['deep']).toBe(`${'['.repeat(limit)}1${']'.repeat(limit)}`);
    expect(decoded.rejected).toBe(2);
    expect(decoded.errorMessage).toBe('2 records rejected: log attribute nested deeper than the limit (1); log body nested deeper than the limit (1)');
  });

  test('values nested 100,000 levels deep in JSON', () => {
    const text = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"ok"}},{"body":${deepJson(100_000)}}]}]}]}`;
    const decoded = decodeLogsRequest(Buffer.from(text), JSON_TYPE);
    expect(decoded.records.map((r) => r.body)).toEqual(['ok']);
    expect(decoded.rejected).toBe(1);
  });

  test('an attribute value or a body over its size limit', () => {
    const limits = { maxAttributeValueLength: 10, maxLogBodyLength: 30 };
    const body = logsRequest([service], [
      logRecord('fits', len(6, kv('k', anyString('0123456789')))),
      logRecord('attr too long', len(6, kv('k', anyString('0123456789a')))),
      logRecord('array too long as JSON', len(6, kv('k', anyArray(anyString('0123'), anyString('5678'))))),
      logRecord('a body longer than thirty characters'),
    ]);
    const decoded = decodeLogsRequest(body, PROTO, undefined, limits);
    expect(decoded.records.map((r) => r.body)).toEqual(['fits']);
    expect(decoded.rejected).toBe(3);
    expect(decoded.errorMessage).toMatch(/log attribute value longer than 10 characters \(2\); log body longer than 30 characters \(1\)/);
  });

  test('a huge attribute under default limits', () => {
    const huge = 'x'.repeat(defaultDecodeLimits.maxAttributeValueLength + 1);
    const body = json({ resourceSpans: [{ scopeSpans: [{ spans: [
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'ok' },
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203332', name: 'huge', attributes: [{ key: 'k', value: { stringValue: huge } }] },
    ] }] }] });
    const decoded = decodeTracesRequest(body, JSON_TYPE);
    expect(decoded.records.map((s) => s.name)).toEqual(['ok']);
    expect(decoded.rejected).toBe(1);
  });

  test('log records with bad trace context or severity', () => {
    const body = logsRequest([service], [
      logRecord('good', hex(9, '0af7651916cd43dd8448eb211c80319c'), hex(10, 'b7ad6b7169203331')),
      logRecord('short traceId', hex(9, '0af7651916'), hex(10, 'b7ad6b7169203331')),
      logRecord('spanId without traceId', hex(10, 'b7ad6b7169203331')),
      logRecord('zero ids mean no trace', hex(9, '00'.repeat(16)), hex(10, '00'.repeat(8))),
      logRecord('severity 25', int(2, 25)),
    ]);
    const decoded = decodeLogsRequest(body, PROTO);
    expect(decoded.records.map((r) => [r.body, r.traceId, r.spanId])).toEqual([
      ['good', '0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331'],
      ['zero ids mean no trace', '', ''],
    ]);
    expect(decoded.rejected).toBe(3);
    expect(decoded.errorMessage).toBe(
      '3 records rejected: log traceId must be 16 bytes (1); log has only one of traceId and spanId (1); log severityNumber must be 0–24 (1)',
    );
  });

  test('spans without ids, with bad ids, or with unknown enums', () => {
    const body = tracesRequest([service], [
      span('good'),
      Buffer.concat([str(5, 'no ids')]),
      Buffer.concat([hex(1, '0af7651916cd43dd8448eb211c80319c'), str(5, 'no spanId')]),
      Buffer.concat([hex(1, '00'.repeat(16)), hex(2, 'b7ad6b7169203331'), str(5, 'zero traceId')]),
      span('bad parent', hex(4, 'b7ad')),
      span('kind 9', int(6, 9)),
    ]);
    const decoded = decodeTracesRequest(body, PROTO);
    expect(decoded.records.map((s) => s.name)).toEqual(['good']);
    expect(decoded.rejected).toBe(5);
    expect(decoded.errorMessage).toContain('span traceId is missing (2)');
    expect(decoded.errorMessage).toContain('span spanId is missing (1)');
    const jsonBody = json({ resourceSpans: [{ scopeSpans: [{ spans: [
      { traceId: 'zz'.repeat(16), spanId: 'b7ad6b7169203331', name: 'not hex' },
      { traceId: '0AF7651916CD43DD8448EB211C80319C', spanId: 'B7AD6B7169203331', name: 'upper case', status: { code: 7 } },
    ] }] }] });
    expect(decodeTracesRequest(jsonBody, JSON_TYPE)).toEqual({
      records: [], rejected: 2, errorMessage: '2 records rejected: span traceId is not hex (1); span status code must be 0–2 (1)',
    });
  });

  test('times past the year 2262, beyond int64 nanoseconds, reject their record only', () => {
    const past = 2n ** 63n;
    const logs = decodeLogsRequest(logsRequest([service], [logRecord('in range', fixed64(1, 2n ** 63n - 1n)), logRecord('too late', fixed64(1, past)), logRecord('observed too late', fixed64(11, past))]), PROTO);
    expect(logs.records.map((r) => r.body)).toEqual(['in range']);
    expect(logs.errorMessage).toBe('2 records rejected: log timeUnixNano is past the year 2262 (1); log observedTimeUnixNano is past the year 2262 (1)');
    const spans = decodeTracesRequest(tracesRequest([service], [span('fine'), span('late start', fixed64(7, past)), span('late end', fixed64(8, past))]), PROTO);
    expect(spans.records.map((r) => r.name)).toEqual(['fine']);
    expect(spans.rejected).toBe(2);
  });

  test('a resource that cannot be kept takes its records along, other resources stay', () => {
    const bad = logsRequest([kv('blob', anyString('y'.repeat(100)))], [logRecord('a'), logRecord('b')]);
    const good = logsRequest([service], [logRecord('c')]);
    const decoded = decodeLogsRequest(Buffer.concat([bad, good]), PROTO, undefined, { maxAttributeValueLength: 50 });
    expect(decoded.records.map((r) => [r.service, r.body])).toEqual([['cart', 'c']]);
    expect(decoded.rejected).toBe(2);
    expect(decoded.errorMessage).toBe('2 records rejected: resource attribute value longer than 50 characters (2)');
  });
});

function deepJson(depth: number): string {
  return `${'{"arrayValue":{"values":['.repeat(depth)}{"intValue":"1"}${']}}'.repeat(depth)}`;
}
