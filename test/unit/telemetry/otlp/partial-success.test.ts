/** OTLP answers: what the collector writes, the agent (and any OTLP client) reads back the same. */
import { describe, expect, test } from 'vitest';
import { decodeExportResponse, encodeExportResponse, encodeStatusResponse, type OtlpSignal } from '../../../../src/telemetry/otlp/index.js';

const signals: OtlpSignal[] = ['logs', 'traces', 'metrics'];

describe('partial success', () => {
  test.each(signals)('%s: round-trips in protobuf and JSON, with the signal\'s own JSON field', (signal) => {
    for (const json of [false, true]) {
      const answer = encodeExportResponse(signal, json, { rejected: 300, errorMessage: '3 records rejected: span kind must be 0–5 (3)' });
      const body = Buffer.from(answer.body);
      expect(decodeExportResponse(signal, body, answer.contentType)).toEqual({ rejected: 300, errorMessage: '3 records rejected: span kind must be 0–5 (3)' });
    }
    const field = { logs: 'rejectedLogRecords', traces: 'rejectedSpans', metrics: 'rejectedDataPoints' }[signal];
    expect(JSON.parse(String(encodeExportResponse(signal, true, { rejected: 2, errorMessage: 'x' }).body))).toEqual({ partialSuccess: { [field]: '2', errorMessage: 'x' } });
  });

  test('full success is an empty protobuf body and {} in JSON, read as nothing rejected', () => {
    expect(encodeExportResponse('logs', false, { rejected: 0, errorMessage: '' }).body).toEqual(Buffer.alloc(0));
    expect(encodeExportResponse('logs', true, { rejected: 0, errorMessage: '' }).body).toBe('{}');
    expect(decodeExportResponse('logs', Buffer.alloc(0), 'application/x-protobuf')).toEqual({ rejected: 0, errorMessage: '' });
  });

  test('an answer that cannot be read counts as full success, never as a reason to send again', () => {
    expect(decodeExportResponse('logs', Buffer.from([0x0a, 0x05, 0x08]), 'application/x-protobuf')).toEqual({ rejected: 0, errorMessage: '' });
    expect(decodeExportResponse('logs', Buffer.from('{"partialSuccess":'), 'application/json')).toEqual({ rejected: 0, errorMessage: '' });
  });

  test('google.rpc.Status carries the gRPC code paired with the HTTP status', () => {
    expect(JSON.parse(String(encodeStatusResponse(400, true, 'bad').body))).toEqual({ code: 3, message: 'bad' });
    expect(JSON.parse(String(encodeStatusResponse(429, true, 'later').body))).toEqual({ code: 8, message: 'later' });
    expect(encodeStatusResponse(503, false, 'down').body).toEqual(Buffer.from([0x08, 14, 0x12, 4, ...Buffer.from('down')]));
  });
});
