/** Chunked trailers on the Node path: response trailers back to the caller, request trailers upstream, across retries and duplicates. */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, expect, test } from 'vitest';
import { resilienceSchema, startHttpProxy, type HttpProxy } from '../../../src/mesh/index.js';
import { announcedTrailers, endToEndTrailers } from '../../../src/mesh/http/headers.js';
import { resolveResilience } from '../../../src/mesh/http/resilience.js';
import { closeHttp, startUpstream } from './http-helpers.js';
import { closeAll, connect, eventually, outcome, startServer, type TestServer } from './net-helpers.js';

let proxy: HttpProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await closeHttp();
  await closeAll();
});

/** What an exchange with trailers came to, on either side. */
interface Seen {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  trailers: Record<string, string | undefined>;
}

/**
 * Sends a request with a chunked body and `trailers` (when given) and reads the answer to its end,
 * its trailers included.
 */
function send(
  address: string,
  options: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; chunks?: string[]; trailers?: Record<string, string> } = {},
): Promise<Seen> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: Number(address.slice(colon + 1)), method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers ?? {}, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body, trailers: { ...response.trailers } });
        });
        response.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('request timed out')), 5_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    for (const chunk of options.chunks ?? []) req.write(chunk);
    if (options.trailers) req.addTrailers(options.trailers);
    req.end();
  });
}

/** Answers chunked with `x-checksum` (announced) and `content-type` (forbidden in trailers) as trailers. */
function answerWithTrailers(response: ServerResponse, body: string): void {
  response.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum, content-type' });
  response.write(body);
  response.addTrailers({ 'x-checksum': `sum-of-${body}`, 'content-type': 'application/evil' });
  response.end();
}

/** A request's trailers as the upstream received them. */
function trailersOf(request: IncomingMessage): Record<string, string | undefined> {
  return { ...request.trailers };
}

test('response trailers reach the caller through the Node path (forced by an http_delay fault)', async () => {
  const upstream = await startUpstream((request, response) => answerWithTrailers(response, 'hello'));
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  proxy.toxics.add({ type: 'http_delay', stream: 'downstream', attributes: { delay_ms: 1 } });
  const reply = await send(proxy.listen, { path: '/report' });
  expect(reply.status).toBe(200);
  expect(reply.body).toBe('hello');
  expect(reply.headers['transfer-encoding']).toBe('chunked');
  // Announced and sent: the end-to-end field only; content-type may not be a trailer (RFC 9110 §6.5.1).
  expect(reply.headers.trailer).toBe('x-checksum');
  expect(reply.headers['content-type']).toBe('text/plain');
  expect(reply.trailers).toEqual({ 'x-checksum': 'sum-of-hello' });
});

/** A raw upstream: Node's own server refuses a Trailer field on an answer to HEAD, which this one sends. */
function startRawUpstream(): Promise<TestServer> {
  return startServer((socket) => {
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const method = pending.slice(0, pending.indexOf(' '));
        pending = pending.slice(end + 4);
        const head = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntrailer: x-checksum\r\ntransfer-encoding: chunked\r\n\r\n';
        socket.write(method === 'HEAD' ? head : `${head}5\r\nhello\r\n0\r\nx-checksum: 42\r\n\r\n`);
      }
    });
  });
}

test('trailers are announced only on an answer that can carry them: not to HEAD, not to an HTTP/1.0 caller', async () => {
  const upstream = await startRawUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  proxy.toxics.add({ type: 'http_delay', stream: 'upstream', attributes: { delay_ms: 1 } });
  const get = await send(proxy.listen);
  expect(get.headers.trailer).toBe('x-checksum');
  expect(get.trailers).toEqual({ 'x-checksum': '42' });
  // Node throws on a Trailer field in a message it does not send chunked; the caller still gets its answer.
  const head = await send(proxy.listen, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.trailer).toBeUndefined();
  const socket = await connect(proxy.listen);
  socket.write('GET /old HTTP/1.0\r\nhost: svc\r\n\r\n');
  const old = (await outcome(socket)).data.toString('latin1');
  expect(old).toMatch(/^HTTP\/1\.1 200 /);
  expect(old.toLowerCase()).not.toContain('trailer');
  expect(old.toLowerCase()).not.toContain('x-checksum');
  expect(old.endsWith('\r\n\r\nhello')).toBe(true);
});

test('request trailers of a chunked body streamed upstream reach the upstream', async () => {
  const received: Record<string, string | undefined>[] = [];
  const upstream = await startUpstream((request, response, body) => {
    received.push(trailersOf(request));
    response.end(`got ${body.toString()} ${request.headers.trailer ?? '-'}`);
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  const reply = await send(proxy.listen, {
    method: 'POST',
    path: '/upload',
    headers: { trailer: 'x-checksum, host' },
    chunks: ['part1;', 'part2'],
    trailers: { 'x-checksum': 'c0ffee', host: 'evil.example' },
  });
  expect(reply.status).toBe(200);
  expect(reply.body).toBe('got part1;part2 x-checksum');
  expect(received).toEqual([{ 'x-checksum': 'c0ffee' }]);
});

test('a GET with a chunked body and trailers is sent chunked upstream, trailers included', async () => {
  const received: Record<string, string | undefined>[] = [];
  const upstream = await startUpstream((request, response, body) => {
    received.push(trailersOf(request));
    response.end(`got ${body.toString()}`);
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  const reply = await send(proxy.listen, { method: 'GET', path: '/search', headers: { 'transfer-encoding': 'chunked' }, chunks: ['q=1'], trailers: { 'x-checksum': 'q1' } });
  expect(reply.body).toBe('got q=1');
  expect(received).toEqual([{ 'x-checksum': 'q1' }]);
});

test('a retry sends the request trailers again, and the caller gets the trailers of the answer it gets', async () => {
  const received: Record<string, string | undefined>[] = [];
  let count = 0;
  const upstream = await startUpstream((request, response, body) => {
    received.push(trailersOf(request));
    count++;
    if (count === 1) {
      response.writeHead(503, { trailer: 'x-attempt' });
      response.addTrailers({ 'x-attempt': 'first' });
      response.end('busy');
      return;
    }
    response.writeHead(200, { trailer: 'x-attempt' });
    response.write(`stored ${body.toString()}`);
    response.addTrailers({ 'x-attempt': 'second' });
    response.end();
  });
  const resilience = resolveResilience(resilienceSchema.parse({ retries: { attempts: 2, backoff_ms: 0 } }));
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, resilience });
  const reply = await send(proxy.listen, { method: 'PUT', path: '/stock/1', headers: { trailer: 'x-checksum' }, chunks: ['qty=', '3'], trailers: { 'x-checksum': 'q3' } });
  expect(reply.status).toBe(200);
  expect(reply.body).toBe('stored qty=3');
  expect(reply.trailers).toEqual({ 'x-attempt': 'second' });
  expect(received).toEqual([{ 'x-checksum': 'q3' }, { 'x-checksum': 'q3' }]);
  expect(upstream.seen.map((seen) => seen.headers.trailer)).toEqual(['x-checksum', 'x-checksum']);
  expect(proxy.stats().retries).toBe(1);
});

test('an http_duplicate delivers the request trailers twice; the caller gets one answer', async () => {
  const received: Record<string, string | undefined>[] = [];
  const upstream = await startUpstream((request, response) => {
    received.push(trailersOf(request));
    answerWithTrailers(response, `answer${received.length}`);
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  proxy.toxics.add({ type: 'http_duplicate', stream: 'upstream' });
  const reply = await send(proxy.listen, { method: 'POST', path: '/orders', chunks: ['{"sku":"a1"}'], trailers: { 'x-checksum': 'a1' } });
  expect(reply.status).toBe(200);
  expect(reply.trailers['x-checksum']).toMatch(/^sum-of-answer[12]$/);
  await eventually(() => received.length === 2);
  expect(received).toEqual([{ 'x-checksum': 'a1' }, { 'x-checksum': 'a1' }]);
});

test('trailer fields that a recipient could not act on at the end of a message stay behind', () => {
  const raw = ['X-Checksum', '1', 'Content-Length', '5', 'If-Match', '"a"', 'Set-Cookie', 'id=1', 'X-Hop', 'h', 'Trailer', 'x', 'x-checksum', '2', 'Server-Timing', 'db;dur=3'];
  expect(endToEndTrailers(raw, { connection: 'X-Hop' })).toEqual([
    ['X-Checksum', '1'],
    ['x-checksum', '2'],
    ['Server-Timing', 'db;dur=3'],
  ]);
  expect(announcedTrailers({ trailer: 'X-Checksum, content-length,if-match , Server-Timing, x-hop', connection: 'x-hop' })).toBe('X-Checksum, Server-Timing');
  expect(announcedTrailers({ trailer: 'host, transfer-encoding' })).toBeUndefined();
});
