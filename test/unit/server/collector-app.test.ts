/** The collector over HTTP (fastify inject): OTLP answers, refusals that store nothing, back-pressure, the query API. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createCollectorApp, type CollectorApp } from '../../../src/server/app.js';
import { openTelemetryStore, type TelemetryStore } from '../../../src/telemetry/store/index.js';
import { anyString, fixed64, hex, int, kv, len, logRecord, logsRequest, span, str, tracesRequest } from '../telemetry/otlp/proto-builder.js';

const TOKEN = 'test-token-0123456789abcdef';
const NOW_NS = 1_764_000_000_000_000_000n;
const PROTOBUF = { 'content-type': 'application/x-protobuf' };

let dir: string;
let store: TelemetryStore;
let collector: CollectorApp;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-collector-'));
  store = openTelemetryStore(path.join(dir, 'telemetry.db'));
  collector = createCollectorApp({ store, token: TOKEN, now: () => Number(NOW_NS / 1_000_000n) + 60_000 });
});

afterEach(async () => {
  await collector.app.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const service = (name: string) => [len(1, kv('service.name', anyString(name)))];
const logAt = (body: string, offsetMs = 0) => logRecord(body, fixed64(1, NOW_NS + BigInt(offsetMs) * 1_000_000n), int(2, 9), str(3, 'INFO'));

/** Decodes the varint fields of a protobuf ExportPartialSuccess inside a response body. */
function partialSuccessOf(body: Buffer): { rejected: number; message: string } {
  if (body.length === 0) return { rejected: 0, message: '' };
  expect(body[0]).toBe(0x0a);
  const inner = body.subarray(2, 2 + (body[1] ?? 0));
  let rejected = 0;
  let message = '';
  for (let at = 0; at < inner.length;) {
    const tag = inner[at++] ?? 0;
    if (tag === 0x08) {
      let shift = 0;
      let byte;
      do {
        byte = inner[at++] ?? 0;
        rejected += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      } while (byte & 0x80);
    } else if (tag === 0x12) {
      const length = inner[at++] ?? 0;
      message = inner.subarray(at, at + length).toString('utf8');
      at += length;
    } else throw new Error(`unexpected tag ${tag}`);
  }
  return { rejected, message };
}

describe('POST /v1/logs', () => {
  test('protobuf: stored once committed, answered with an empty protobuf response', async () => {
    const response = await collector.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: logsRequest(service('orders'), [logAt('order placed'), logAt('order paid', 1)]) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-protobuf');
    expect(response.rawPayload.length).toBe(0);
    expect(store.stats().logs.stored).toBe(2);
  });

  test('JSON, gzip: stored, answered with {}', async () => {
    const body = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gateway' } }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: String(NOW_NS), body: { stringValue: 'hello' } }] }],
      }],
    };
    const response = await collector.app.inject({
      method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: gzipSync(JSON.stringify(body)),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({});
    expect(store.stats().logs.stored).toBe(1);
  });

  test('a rejected record is reported as partial success; the others are stored', async () => {
    const badTrace = logRecord('bad trace id', fixed64(1, NOW_NS), hex(9, 'abcd'));
    const response = await collector.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: logsRequest(service('orders'), [logAt('fine'), badTrace]) });
    expect(response.statusCode).toBe(200);
    const partial = partialSuccessOf(response.rawPayload);
    expect(partial.rejected).toBe(1);
    expect(partial.message).toMatch(/trace/i);
    expect(store.stats().logs.stored).toBe(1);
  });

  test('JSON partial success names rejectedLogRecords', async () => {
    const body = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'ok' } }, { traceId: 'zz', body: { stringValue: 'bad' } }] }] }] };
    const response = await collector.app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ partialSuccess: { rejectedLogRecords: '1' } });
  });

  test.each([
    ['truncated protobuf', PROTOBUF, () => logsRequest(service('x'), [logAt('a'), logAt('b')]).subarray(0, -3), 400],
    ['not JSON', { 'content-type': 'application/json' }, () => Buffer.from('{"resourceLogs": ['), 400],
    ['a wrong JSON type', { 'content-type': 'application/json' }, () => Buffer.from('{"resourceLogs": {"a": 1}}'), 400],
    ['invalid UTF-8 in a body', PROTOBUF, () => logsRequest(service('x'), [len(2, Buffer.concat([Buffer.from([0x0a, 0x02]), Buffer.from([0xc3, 0x28])]))]), 400],
    ['a gzip bomb', { ...PROTOBUF, 'content-encoding': 'gzip' }, () => gzipSync(Buffer.alloc(64 * 1024 * 1024)), 413],
    ['an unknown content type', { 'content-type': 'text/plain' }, () => Buffer.from('hello'), 415],
    ['an unknown encoding', { ...PROTOBUF, 'content-encoding': 'br' }, () => Buffer.from('x'), 415],
  ])('%s: refused whole with %#, nothing stored, a google.rpc.Status body', async (_name, headers, payload, status) => {
    const response = await collector.app.inject({ method: 'POST', url: '/v1/logs', headers, payload: payload() });
    expect(response.statusCode).toBe(status);
    expect(response.rawPayload.length).toBeGreaterThan(0);
    expect(store.stats().logs.stored).toBe(0);
    // The collector still works afterwards.
    const next = await collector.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: logsRequest(service('x'), [logAt('after')]) });
    expect(next.statusCode).toBe(200);
    expect(store.stats().logs.stored).toBe(1);
  });

  test('JSON errors come back as JSON google.rpc.Status', async () => {
    const response = await collector.app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/json' }, payload: '[' });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ code: number; message: string }>()).toMatchObject({ code: 3 });
    expect(response.json<{ message: string }>().message).toMatch(/JSON/i);
  });

  test('a body declared over the limit is refused with 413 before it is read', async () => {
    const small = createCollectorApp({ store, token: TOKEN, decodeLimits: { maxBodyBytes: 1024 } });
    try {
      const response = await small.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: Buffer.alloc(4096) });
      expect(response.statusCode).toBe(413);
    } finally {
      await small.app.close();
    }
  });
});

describe('back-pressure', () => {
  test('over the pending-records bound: 429 with Retry-After, nothing stored from it', async () => {
    const bounded = createCollectorApp({ store, token: TOKEN, ingestLimits: { maxPendingRecords: 3 } });
    try {
      const records = [1, 2, 3, 4].map((n) => logAt(`line ${n}`, n));
      const response = await bounded.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: logsRequest(service('x'), records) });
      expect(response.statusCode).toBe(429);
      expect(response.headers['retry-after']).toBe('1');
      expect(store.stats().logs.stored).toBe(0);
      const fits = await bounded.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: logsRequest(service('x'), records.slice(0, 3)) });
      expect(fits.statusCode).toBe(200);
      expect(bounded.ingest.counters().refused.overloaded).toBe(1);
    } finally {
      await bounded.app.close();
    }
  });

  test('over the in-flight bytes bound: 429 before the body is read', async () => {
    const bounded = createCollectorApp({ store, token: TOKEN, maxInflightBodyBytes: 100 });
    try {
      const response = await bounded.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: Buffer.alloc(200) });
      expect(response.statusCode).toBe(429);
      expect(response.headers['retry-after']).toBeDefined();
    } finally {
      await bounded.app.close();
    }
  });

  test('a failing store: 503 with Retry-After, and the request is not acknowledged', async () => {
    store.close();
    const response = await collector.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: logsRequest(service('x'), [logAt('lost?')]) });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    store = openTelemetryStore(path.join(dir, 'telemetry.db'));
    expect(store.stats().logs.stored).toBe(0);
  });
});

describe('POST /v1/traces', () => {
  test('spans are stored; a span sent twice is kept once', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const payload = tracesRequest(service('orders'), [span('GET /orders', hex(1, traceId), hex(2, 'b7ad6b7169203331'), int(6, 2), fixed64(7, NOW_NS), fixed64(8, NOW_NS + 5_000_000n))]);
    for (let i = 0; i < 2; i += 1) {
      const response = await collector.app.inject({ method: 'POST', url: '/v1/traces', headers: PROTOBUF, payload });
      expect(response.statusCode).toBe(200);
    }
    expect(store.stats().spans.stored).toBe(1);
  });
});

describe('the query API', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  test('asks for the token, except /api/health', async () => {
    expect((await collector.app.inject({ url: '/api/health' })).statusCode).toBe(200);
    expect((await collector.app.inject({ url: '/api/logs' })).statusCode).toBe(401);
    expect((await collector.app.inject({ url: '/api/logs', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    expect((await collector.app.inject({ url: '/api/logs', headers: auth })).statusCode).toBe(200);
  });

  test('/api/logs searches words, level, service and time, newest first', async () => {
    await collector.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: logsRequest(service('orders'), [logAt('payment declined', 0), logAt('order stored', 1), logAt('payment accepted', 2)]) });
    const response = await collector.app.inject({ url: '/api/logs?grep=payment&since=5m', headers: auth });
    expect(response.statusCode).toBe(200);
    expect(response.json<{ logs: { body: string }[] }>().logs.map((log) => log.body)).toEqual(['payment accepted', 'payment declined']);
    const none = await collector.app.inject({ url: '/api/logs?service=gateway', headers: auth });
    expect(none.json<{ logs: unknown[] }>().logs).toEqual([]);
  });

  test.each([
    ['/api/logs?level=loud', /level/],
    ['/api/logs?since=yesterday-ish', /since/],
    ['/api/logs?traceId=xyz', /traceId/],
    ['/api/logs?limit=0', /limit/],
    ['/api/logs?colour=blue', /colour|unrecognized/i],
    ['/api/map?since=1m&until=2m', /empty/],
  ])('%s is a 400 naming the parameter', async (url, message) => {
    const response = await collector.app.inject({ url, headers: auth });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ message: string }>().message).toMatch(message);
  });

  test('/api/traces/:id answers 404 for an unknown trace', async () => {
    const response = await collector.app.inject({ url: '/api/traces/0af7651916cd43dd8448eb211c80319c', headers: auth });
    expect(response.statusCode).toBe(404);
  });

  test('/api/stats counts what was accepted', async () => {
    await collector.app.inject({ method: 'POST', url: '/v1/logs', headers: PROTOBUF, payload: logsRequest(service('orders'), [logAt('one')]) });
    const stats = (await collector.app.inject({ url: '/api/stats', headers: auth })).json<{ store: { logs: { stored: number } }; ingest: { accepted: { logs: number } } }>();
    expect(stats.store.logs.stored).toBe(1);
    expect(stats.ingest.accepted.logs).toBe(1);
  });
});
