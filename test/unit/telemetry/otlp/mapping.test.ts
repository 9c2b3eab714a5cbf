/** The OTLP/JSON mapping and the flattening rules, with the same request in both encodings. */
import { describe, expect, test } from 'vitest';
import { decodeLogsRequest, decodeTracesRequest, severityTextOf } from '../../../../src/telemetry/otlp/index.js';
import type { AttributeValue } from '../../../../src/telemetry/types.js';
import { anyInt, anyString, double, fixed64, hex, int, kv, len, logsRequest, str, tracesRequest } from './proto-builder.js';

describe('OTLP/JSON mapping', () => {
  test('64-bit integers as strings or numbers, doubles, bytes, maps, upper-case hex', () => {
    const body = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'host.name', value: { stringValue: 'h1' } }] },
        scopeLogs: [{
          scope: { name: 'lib' },
          logRecords: [{
            timeUnixNano: '1700000000000000001',
            observedTimeUnixNano: 1700000000,
            severityNumber: 13,
            traceId: '0AF7651916CD43DD8448EB211C80319C',
            spanId: 'B7AD6B7169203331',
            body: { kvlistValue: { values: [{ key: 'n', value: { intValue: '12' } }, { key: 'b', value: { bytesValue: 'AAE=' } }] } },
            attributes: [
              { key: 'big', value: { intValue: '9007199254740993' } },
              { key: 'neg', value: { intValue: -5 } },
              { key: 'nan', value: { doubleValue: 'NaN' } },
              { key: 'half', value: { doubleValue: 0.5 } },
              { key: 'raw', value: { bytesValue: '3q2-7w' } },
              { key: 'none', value: {} },
              { key: '__proto__', value: { boolValue: true } },
              { key: 'dup', value: { stringValue: 'first' } },
              { key: 'dup', value: { stringValue: 'last' } },
            ],
            unknownFutureField: { anything: 1 },
          }],
        }],
      }],
    };
    const decoded = decodeLogsRequest(Buffer.from(JSON.stringify(body)), 'application/json');
    expect(decoded).toEqual({
      records: [{
        timeUnixNano: '1700000000000000001',
        observedTimeUnixNano: '1700000000',
        severityNumber: 13,
        severityText: 'WARN',
        body: '{"n":12,"b":"AAE="}',
        // No service.name on the resource: the spec's fallback.
        service: 'unknown_service',
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        attributes: Object.fromEntries<AttributeValue>([
          ['big', '9007199254740993'], ['neg', -5], ['nan', 'NaN'], ['half', 0.5], ['raw', '3q2+7w=='],
          ['none', null], ['__proto__', true], ['dup', 'last'],
        ]),
        resource: { 'host.name': 'h1' },
        scope: { name: 'lib', version: '' },
      }],
      rejected: 0,
      errorMessage: '',
    });
    expect(Object.getPrototypeOf(decoded.records[0]?.attributes)).toBe(Object.prototype);
  });

  test('an empty request and empty groups decode to no records', () => {
    for (const body of ['{}', '{"resourceSpans":[]}', '{"resourceSpans":[{"scopeSpans":[{}]}]}', '{"resourceSpans":null}']) {
      expect(decodeTracesRequest(Buffer.from(body), 'application/json')).toEqual({ records: [], rejected: 0, errorMessage: '' });
    }
  });

  test('severity numbers map to their group names', () => {
    expect([0, 1, 4, 5, 9, 12, 13, 17, 21, 24].map(severityTextOf)).toEqual(
      ['', 'TRACE', 'TRACE', 'DEBUG', 'INFO', 'INFO', 'WARN', 'ERROR', 'FATAL', 'FATAL'],
    );
  });
});

describe('the same span in JSON and protobuf', () => {
  const traceId = '5b8efff798038103d269b633813fc60c';
  const spanId = 'eee19b7ec3c1b174';
  const parentSpanId = 'eee19b7ec3c1b173';
  const expected = {
    records: [{
      traceId, spanId, parentSpanId, name: 'GET /cart', kind: 'PRODUCER',
      startTimeUnixNano: '9223372036854775807', endTimeUnixNano: '1544712661000000000',
      status: 'OK', statusMessage: 'fine', service: 'cart',
      attributes: { 'retry.count': -3, 'weight': 1.25 },
      resource: { 'service.name': 'cart' },
      scope: { name: 'scope', version: '' },
    }],
    rejected: 0,
    errorMessage: '',
  };

  test('JSON', () => {
    const body = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart' } }] },
        scopeSpans: [{
          scope: { name: 'scope' },
          spans: [{
            traceId, spanId, parentSpanId, name: 'GET /cart', kind: 4,
            startTimeUnixNano: '9223372036854775807', endTimeUnixNano: 1544712661000000000,
            attributes: [{ key: 'retry.count', value: { intValue: '-3' } }, { key: 'weight', value: { doubleValue: '1.25' } }],
            status: { code: 1, message: 'fine' },
          }],
        }],
      }],
    };
    expect(decodeTracesRequest(Buffer.from(JSON.stringify(body)), 'application/json')).toEqual(expected);
  });

  test('protobuf', () => {
    const spanBody = Buffer.concat([
      hex(1, traceId), hex(2, spanId), hex(4, parentSpanId), str(5, 'GET /cart'), int(6, 4),
      fixed64(7, 9223372036854775807n), fixed64(8, 1544712661000000000n),
      len(9, kv('retry.count', anyInt(-3))), len(9, kv('weight', double(4, 1.25))),
      len(15, str(2, 'fine'), int(3, 1)),
    ]);
    expect(decodeTracesRequest(tracesRequest([kv('service.name', anyString('cart'))], [spanBody]), 'application/x-protobuf')).toEqual(expected);
  });

  test('a log without time or severity gets zeroes and empty text', () => {
    const decoded = decodeLogsRequest(logsRequest([], [len(5, anyString('bare'))]), 'application/x-protobuf');
    expect(decoded.records[0]).toMatchObject({ timeUnixNano: '0', observedTimeUnixNano: '0', severityNumber: 0, severityText: '', body: 'bare' });
  });
});
