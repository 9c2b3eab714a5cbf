/**
 * The upstream side of the HTTP proxy: a resend after a stale kept-alive socket is charged to the
 * retry budget, and a response body that goes silent is given up.
 */
import type { Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { resilienceSchema, startHttpProxy, type HttpProxy, type ResilienceInput } from '../../../src/mesh/index.js';
import { resolveResilience } from '../../../src/mesh/http/resilience.js';
import type { MeshTelemetry, RequestRecord } from '../../../src/mesh/http/telemetry/recorder.js';
import { closeHttp, keepAliveAgent, request, startUpstream } from './http-helpers.js';
import { closeAll, connect, delay, eventually, outcome, startServer } from './net-helpers.js';

let proxy: HttpProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await closeHttp();
  await closeAll();
});

function settings(input: ResilienceInput): ReturnType<typeof resolveResilience> {
  return resolveResilience(resilienceSchema.parse(input));
}

/** A raw HTTP upstream that answers the first request on each connection and resets the connection at the next one. */
async function resetsReusedSockets() {
  const stats = { requests: 0, resets: 0 };
  const server = await startServer((socket: Socket) => {
    let served = 0;
    let buffered = '';
    socket.on('data', (data: Buffer) => {
      buffered += data.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        stats.requests++;
        if (served++ === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
        else {
          stats.resets++;
          socket.resetAndDestroy();
          return;
        }
      }
    });
  });
  return { server, stats };
}

test('an upstream that resets every reused socket cannot double its load: stale resends come out of the retry budget', async () => {
  const { server, stats } = await resetsReusedSockets();
  const minRetries = 2;
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: server.address,
    resilience: settings({ budget: { ratio: 0, min_retries: minRetries, window_ms: 3_600_000 }, ejection: { consecutive_failures: 0 } }),
  });
  const agent = keepAliveAgent(1);
  const requests = 10;
  const statuses: number[] = [];
  for (let i = 0; i < requests; i++) statuses.push((await request(proxy.listen, { agent })).status);
  // Without the budget every reused socket costs the upstream a second request and every call succeeds.
  expect(stats.resets).toBeGreaterThan(minRetries);
  expect(stats.requests).toBeLessThanOrEqual(requests + minRetries);
  expect(proxy.stats().staleResends).toBe(minRetries);
  expect(proxy.stats().budgetRefused).toBeGreaterThan(0);
  expect(statuses.filter((status) => status === 502).length).toBe(stats.resets - minRetries);
});

test('a POST with a body is never resent after a stale socket; a bodiless one may be', async () => {
  const { server, stats } = await resetsReusedSockets();
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: server.address,
    resilience: settings({ budget: { min_retries: 100 }, ejection: { consecutive_failures: 0 } }),
  });
  expect((await request(proxy.listen, { method: 'POST', body: 'first' })).status).toBe(200);
  // The proxy's pooled socket is now reused, and the upstream resets it.
  expect((await request(proxy.listen, { method: 'POST', body: 'order' })).status).toBe(502);
  expect(stats.requests).toBe(2);
  expect((await request(proxy.listen, { method: 'GET' })).status).toBe(200);
  expect((await request(proxy.listen, { method: 'POST' })).status).toBe(200);
  expect(proxy.stats().staleResends).toBe(1);
});

test.each([
  ['the fast lane', false],
  ['the Node path (a fault is set)', true],
])('on %s, a stale-socket resend is recorded as two attempts (two requests reached the upstream side)', async (_path, withFault) => {
  const { server, stats } = await resetsReusedSockets();
  const records: RequestRecord[] = [];
  const telemetry: MeshTelemetry = { sample: () => true, record: (record) => void records.push(record), stats: () => undefined, close: () => Promise.resolve() };
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: server.address, telemetry,
    resilience: settings({ budget: { min_retries: 100 }, ejection: { consecutive_failures: 0 } }),
  });
  // A fault that never fires (toxicity 0) still moves each connection to Node's parser.
  if (withFault) proxy.toxics.add({ type: 'http_abort', stream: 'upstream', toxicity: 0, attributes: { status: 500 } });
  expect((await request(proxy.listen)).status).toBe(200);
  // The pooled upstream socket is reused and reset: resent once on a new one.
  expect((await request(proxy.listen)).status).toBe(200);
  expect(proxy.stats().staleResends).toBe(1);
  await eventually(() => records.length === 2);
  expect(records.map((record) => record.attempts)).toEqual([1, 2]);
  expect(stats.requests).toBe(3);
});

test('an upstream body that stalls after the head is given up: both sides are closed', async () => {
  let upstreamClosedEarly = false;
  const upstream = await startUpstream((_request, response) => {
    response.writeHead(200, { 'content-length': '100' });
    response.write('only ten b');
    response.once('close', () => (upstreamClosedEarly = !response.writableFinished));
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, resilience: settings({ body_idle_timeout_ms: 100 }) });
  const failure = await request(proxy.listen, { timeoutMs: 60_000 }).then(
    () => new Error('answered in full'),
    (error: unknown) => error as Error,
  );
  // The caller's answer is cut (not our own client timeout).
  expect(failure.message).not.toBe('request timed out');
  expect(failure.message).toMatch(/aborted|socket hang up|ECONNRESET/);
  await eventually(() => upstreamClosedEarly);
  expect(proxy.toJSON().resilience).toMatchObject({ body_idle_timeout_ms: 100 });
});

test('a slow caller is not a stalled upstream: a body read slowly by the caller is delivered whole', async () => {
  const size = 4 * 1024 * 1024;
  const upstream = await startUpstream((_request, response) => response.end(Buffer.alloc(size, 5)));
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, resilience: settings({ body_idle_timeout_ms: 50 }) });
  const socket = await connect(proxy.listen);
  socket.pause();
  socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  // The caller does not read for a while: back-pressure pauses the upstream, which must not count as its silence.
  await delay(300);
  const reading = outcome(socket, 60_000);
  socket.resume();
  const received = (await reading).data.length;
  expect(received).toBeGreaterThan(size);
}, 60_000);
