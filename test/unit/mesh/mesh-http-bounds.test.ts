/**
 * Memory and connection bounds of the HTTP proxy: a proxy-wide byte budget for buffered bodies,
 * a cap and a timeout on duplicates in flight, and the server's own limits (connections, request
 * timeout, request body idle timeout) — with an http_drop hang still free to hold a request.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, expect, test } from 'vitest';
import { resilienceSchema, startHttpProxy, type HttpProxy, type ResilienceInput } from '../../../src/mesh/index.js';
import { resolveResilience } from '../../../src/mesh/http/resilience.js';
import { closeHttp, request, startUpstream } from './http-helpers.js';
import { closeAll, connect, eventually, outcome } from './net-helpers.js';

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

/** An upstream that holds every request until `release()`, and counts the held requests whose connection closed first. */
async function holdingUpstream() {
  const held: ServerResponse[] = [];
  let closedUnanswered = 0;
  const upstream = await startUpstream((_request, response) => {
    held.push(response);
    response.once('close', () => {
      if (!response.writableFinished) closedUnanswered++;
    });
  });
  return {
    upstream,
    held,
    closedUnanswered: () => closedUnanswered,
    release: () => {
      for (const response of held.splice(0)) if (!response.destroyed) response.end('released');
    },
  };
}

/** Starts a request and returns it with a promise of its outcome (status, or the error). */
function send(address: string, options: { method?: string; path?: string; body?: Buffer | string } = {}): { req: http.ClientRequest; done: Promise<number | Error> } {
  const colon = address.lastIndexOf(':');
  let req!: http.ClientRequest;
  const done = new Promise<number | Error>((resolve) => {
    req = http.request({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)), method: options.method ?? 'GET', path: options.path ?? '/', agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', resolve);
    });
    req.on('error', resolve);
    req.end(options.body);
  });
  return { req, done };
}

test('buffered bodies share a proxy-wide budget: past it a body streams once, without a retry, and the budget is given back', async () => {
  let puts = 0;
  const held: ServerResponse[] = [];
  const upstream = await startUpstream((incoming: IncomingMessage, response) => {
    if (incoming.url === '/hold') {
      held.push(response);
      return;
    }
    puts++;
    response.writeHead(puts === 1 ? 503 : 200);
    response.end(`put ${puts}`);
  });
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, maxBufferedBytes: 100,
    resilience: settings({ retries: { attempts: 2, backoff_ms: 0 }, budget: { min_retries: 10 } }),
  });
  // 80 bytes held (buffered for a retry) while the upstream holds the request.
  const first = send(proxy.listen, { method: 'PUT', path: '/hold', body: Buffer.alloc(80, 1) });
  await eventually(() => held.length === 1);
  expect(proxy.stats().bufferedBytes).toBe(80);
  // 80 more do not fit: this body streams, so its 503 cannot be retried.
  const second = await request(proxy.listen, { method: 'PUT', path: '/b', body: Buffer.alloc(80, 2) });
  expect(second.status).toBe(503);
  expect(upstream.seen.filter((seen) => seen.url === '/b')).toHaveLength(1);
  expect(upstream.seen.find((seen) => seen.url === '/b')?.body).toEqual(Buffer.alloc(80, 2));
  expect(proxy.stats()).toMatchObject({ retries: 0, bufferBudgetRefused: 1 });
  held[0]?.end('done');
  expect(await first.done).toBe(200);
  await eventually(() => proxy?.stats().bufferedBytes === 0);
  // Budget back: the same request is buffered again, and retried.
  puts = 0;
  const third = await request(proxy.listen, { method: 'PUT', path: '/c', body: Buffer.alloc(80, 3) });
  expect(third.status).toBe(200);
  expect(upstream.seen.filter((seen) => seen.url === '/c')).toHaveLength(2);
});

test('duplicates in flight are capped: past the cap a duplicate is skipped and counted', async () => {
  const hold = await holdingUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: hold.upstream.address, maxDuplicatesInFlight: 1 });
  proxy.toxics.add({ type: 'http_duplicate', stream: 'upstream' });
  const a = send(proxy.listen, { path: '/a' });
  await eventually(() => hold.upstream.seen.length === 2);
  expect(proxy.stats()).toMatchObject({ duplicates: 1, duplicatesInFlight: 1, duplicatesSkipped: 0 });
  const b = send(proxy.listen, { path: '/b' });
  await eventually(() => hold.upstream.seen.some((seen) => seen.url === '/b'));
  expect(proxy.stats()).toMatchObject({ duplicates: 1, duplicatesSkipped: 1 });
  hold.release();
  expect(await a.done).toBe(200);
  expect(await b.done).toBe(200);
  expect(hold.upstream.seen.map((seen) => seen.url).sort()).toEqual(['/a', '/a', '/b']);
  await eventually(() => proxy?.stats().duplicatesInFlight === 0);
});

test('a duplicate the upstream never answers is given up after the duplicate timeout, even with no attempt timeout', async () => {
  const hold = await holdingUpstream();
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: hold.upstream.address, duplicateTimeoutMs: 100,
    resilience: settings({ attempt_timeout_ms: 0, timeout_ms: 0 }),
  });
  proxy.toxics.add({ type: 'http_duplicate', stream: 'upstream' });
  const a = send(proxy.listen, { path: '/a' });
  await eventually(() => hold.upstream.seen.length === 2);
  // The caller gives up: its own attempt closes; only the duplicate's timeout can close the other.
  a.req.destroy();
  expect(await a.done).toBeInstanceOf(Error);
  await eventually(() => hold.closedUnanswered() === 2, 10_000);
  await eventually(() => proxy?.stats().duplicatesInFlight === 0);
});

test('the server takes at most maxConnections callers at a time', async () => {
  const upstream = await startUpstream((_request, response) => response.end('ok'));
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, limits: { maxConnections: 2 } });
  const first = await connect(proxy.listen);
  const second = await connect(proxy.listen);
  // Both are accepted and served…
  for (const socket of [first, second]) {
    const answered = new Promise<string>((resolve) => socket.once('data', (data: Buffer) => resolve(data.toString('latin1'))));
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(await answered).toMatch(/^HTTP\/1\.1 200/);
  }
  // …a third is closed without an answer, even though it sends a request.
  const third = await connect(proxy.listen);
  third.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  const result = await outcome(third, 10_000);
  expect(result.data.length).toBe(0);
  expect(upstream.seen).toHaveLength(2);
});

test('a caller that stops sending a body the proxy gathers is answered 408; the upstream never saw the request', async () => {
  const seen: boolean[] = [];
  const upstream = await startUpstream((incoming) => {
    seen.push(true);
    incoming.resume();
  }, { stream: true });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, limits: { requestBodyIdleTimeoutMs: 100 } });
  const socket = await connect(proxy.listen);
  socket.write('POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789');
  const result = await outcome(socket, 10_000);
  expect(result.data.toString('latin1')).toMatch(/^HTTP\/1\.1 408/);
  // A body up to the replay bound is gathered before anything goes upstream (as nginx buffers requests).
  expect(seen).toEqual([]);
  expect(proxy.stats().bufferedBytes).toBe(0);
});

test('a caller that stops sending a streamed body is answered 408 and the upstream request is closed', async () => {
  const aborted: boolean[] = [];
  const upstream = await startUpstream((incoming) => {
    incoming.resume();
    incoming.once('close', () => aborted.push(!incoming.complete));
  }, { stream: true });
  // A body over the replay bound streams to the upstream as it comes.
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, maxBodyBufferBytes: 50, limits: { requestBodyIdleTimeoutMs: 100 } });
  const socket = await connect(proxy.listen);
  socket.write('POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789');
  const result = await outcome(socket, 10_000);
  expect(result.data.toString('latin1')).toMatch(/^HTTP\/1\.1 408/);
  await eventually(() => aborted.length === 1);
  expect(aborted).toEqual([true]);
});

test('the request timeout ends a slow caller, but not a request an http_drop hang holds', async () => {
  const upstream = await startUpstream((_request, response) => response.end('ok'));
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address,
    limits: { requestTimeoutMs: 200, headersTimeoutMs: 200, connectionsCheckingIntervalMs: 20, requestBodyIdleTimeoutMs: 0 },
  });
  const hang = proxy.toxics.add({ name: 'hang', type: 'http_drop', stream: 'upstream', attributes: { mode: 'hang', path: '/held' } });
  // Held, with a body too large to be read before the proxy lets it go on: the request is not complete.
  const body = Buffer.alloc(8 * 1024 * 1024, 7);
  const held = send(proxy.listen, { method: 'PUT', path: '/held', body });
  await eventually(() => proxy?.stats().requests === 1);
  // A caller that is really slow: it started after the held one, so the server checks the held one first.
  const slow = await connect(proxy.listen);
  slow.write('POST /slow HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789');
  const slowResult = await outcome(slow, 10_000);
  expect(slowResult.data.toString('latin1')).toMatch(/^HTTP\/1\.1 408/);
  // The hang still holds its request; releasing it lets it go on normally.
  proxy.toxics.remove(hang.name);
  expect(await held.done).toBe(200);
  expect(upstream.seen.find((seen) => seen.url === '/held')?.body.length).toBe(body.length);
});
