/**
 * The HTTP proxy's fast lane on raw sockets: pipelining, framing passed through, the hand-off to
 * the Node path at a request boundary, and the ends of a connection.
 */
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { resilienceSchema, startHttpProxy, type HttpProxy } from '../../../../src/mesh/index.js';
import { resolveResilience } from '../../../../src/mesh/http/resilience.js';
import type { MeshTelemetry, RequestRecord } from '../../../../src/mesh/http/telemetry/recorder.js';
import { closeHttp, startOkUpstream, startUpstream } from '../http-helpers.js';
import { closeAll, connect, delay, eventually, outcome, sha256 } from '../net-helpers.js';

let proxy: HttpProxy | undefined;
const rawServers = new Set<net.Server>();

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  for (const server of rawServers) server.close();
  rawServers.clear();
  await closeHttp();
  await closeAll();
});

/** An upstream on raw sockets that answers each request head with `answer` (whatever it asked). */
async function rawUpstream(answer: (socket: Socket) => void): Promise<string> {
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        answer(socket);
      }
    });
    socket.on('error', () => undefined);
  });
  rawServers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Reads from `socket` until `count` answers (each ending with `end`) have arrived. */
function readUntil(socket: Socket, end: string, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (text.split(end).length - 1 >= count) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after: ${text}`)));
  });
}

/** Telemetry that keeps the records, and samples as told. */
function recorder(sample = true): { records: RequestRecord[]; telemetry: MeshTelemetry } {
  const records: RequestRecord[] = [];
  return { records, telemetry: { sample: () => sample, record: (r) => records.push(r), stats: () => undefined, close: () => Promise.resolve() } };
}

test('pipelined requests on one connection are answered in order, each once', async () => {
  const upstream = await startOkUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  const socket = await connect(proxy.listen);
  socket.write('GET /1 HTTP/1.1\r\nhost: x\r\n\r\nGET /2 HTTP/1.1\r\nhost: x\r\n\r\nPOST /3 HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\nbody');
  const text = await readUntil(socket, 'ok ', 3);
  expect([...text.matchAll(/ok (\w+ \/\d)/g)].map((match) => match[1])).toEqual(['GET /1', 'GET /2', 'POST /3']);
  expect(upstream.seen.map((seen) => seen.body.toString())).toEqual(['', '', 'body']);
});

test('a chunked answer passes as the upstream framed it, extensions and trailers included', async () => {
  const chunked = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-checksum\r\n\r\n5;ext=1\r\nhello\r\n0\r\nx-checksum: 42\r\n\r\n';
  const upstream = await rawUpstream((socket) => socket.write(chunked));
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream });
  const socket = await connect(proxy.listen);
  socket.write('GET /a HTTP/1.1\r\nhost: x\r\n\r\n');
  const first = await readUntil(socket, 'x-checksum: 42\r\n\r\n', 1);
  expect(first).toBe('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nx-checksum: 42\r\n\r\n');
  // The answer's end was found: the connection serves the next request.
  socket.write('GET /b HTTP/1.1\r\nhost: x\r\n\r\n');
  await readUntil(socket, 'x-checksum: 42\r\n\r\n', 1);
});

test('a fault added while a connection is kept alive applies to its next request: the connection moves to the Node path', async () => {
  const upstream = await startOkUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  const socket = await connect(proxy.listen);
  socket.write('GET /before HTTP/1.1\r\nhost: x\r\n\r\n');
  expect(await readUntil(socket, 'ok GET /before', 1)).toMatch(/^HTTP\/1\.1 200/);
  const fault = proxy.toxics.add({ name: 'abort', type: 'http_abort', stream: 'upstream', attributes: { status: 418 } });
  socket.write('GET /during HTTP/1.1\r\nhost: x\r\n\r\n');
  expect(await readUntil(socket, 'mesh: aborted', 1)).toMatch(/^HTTP\/1\.1 418/);
  proxy.toxics.remove(fault.name);
  socket.write('GET /after HTTP/1.1\r\nhost: x\r\n\r\n');
  expect(await readUntil(socket, 'ok GET /after', 1)).toMatch(/^HTTP\/1\.1 200/);
  expect(upstream.seen.map((seen) => seen.url)).toEqual(['/before', '/after']);
  expect(proxy.stats().requests).toBe(3);
});

test('an upstream that closes before the end of its answer: the caller connection closes, and the request is recorded as an error', async () => {
  const upstream = await rawUpstream((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part'));
  const { records, telemetry } = recorder();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream, telemetry });
  const socket = await connect(proxy.listen);
  socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  const result = await outcome(socket);
  expect(result.data.toString('latin1')).toMatch(/only part$/);
  await eventually(() => records.length === 1);
  expect(records[0]).toMatchObject({ status: 200, error: 'the upstream closed before the end of its answer' });
  expect(proxy.stats().active).toBe(0);
});

test('a caller that closes its side mid-answer is gone, as Node takes it: the upstream connection is closed, not reused', async () => {
  const closed: boolean[] = [];
  const upstream = await startUpstream((request, response) => {
    response.writeHead(200, { 'content-length': 1000 });
    response.write('x'.repeat(10));
    request.socket.once('close', () => closed.push(true));
  });
  const { records, telemetry } = recorder();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, telemetry });
  const socket = await connect(proxy.listen);
  socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  await readUntil(socket, 'xxxxxxxxxx', 1);
  socket.destroy();
  await eventually(() => closed.length === 1 && records.length === 1);
  expect(records[0]?.error).toBe('the caller went away before the answer was complete');
  expect(proxy.stats().active).toBe(0);
});

test('each request is recorded once, with its caller address, route, status and attempts', async () => {
  const upstream = await startOkUpstream();
  const { records, telemetry } = recorder();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, telemetry, resolveCaller: (ip) => `caller@${ip}` });
  const socket = await connect(proxy.listen);
  socket.write('GET /items/42?x=1 HTTP/1.1\r\nhost: x\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n');
  await readUntil(socket, 'ok GET', 1);
  await eventually(() => records.length === 1);
  expect(records[0]).toMatchObject({
    caller: 'caller@127.0.0.1', method: 'GET', status: 200, attempts: 1, traceId: '0af7651916cd43dd8448eb211c80319c', parentSpanId: 'b7ad6b7169203331', upstream: upstream.address,
  });
  expect(records[0]?.route).toBe('/items/:id');
  expect(upstream.seen[0]?.headers.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${records[0]!.serverSpanId}-01`);
});

test('a trace that starts here and is not sampled goes upstream with flags 00, so it is dropped whole; a caller\'s flags pass as they are', async () => {
  const upstream = await startOkUpstream();
  const { records, telemetry } = recorder(false);
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, telemetry });
  const socket = await connect(proxy.listen);
  socket.write('GET /new HTTP/1.1\r\nhost: x\r\n\r\n');
  await readUntil(socket, 'ok GET /new', 1);
  socket.write('GET /child HTTP/1.1\r\nhost: x\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n');
  await readUntil(socket, 'ok GET /child', 1);
  await eventually(() => records.length === 2);
  expect(upstream.seen.map((seen) => String(seen.headers.traceparent).slice(-2))).toEqual(['00', '01']);
  expect(records.map((record) => record.sampled)).toEqual([false, false]);
});

test('a request whose Connection names Content-Length cannot smuggle a second one: the Node path frames its body', async () => {
  const upstream = await startOkUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  const socket = await connect(proxy.listen);
  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
  socket.write(`POST /a HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`);
  await readUntil(socket, 'ok POST /a', 1);
  expect(upstream.seen.map((seen) => [seen.method, seen.url, seen.body.toString()])).toEqual([['POST', '/a', smuggled]]);
});

test('a head over 16 KiB in one read is left to Node, which answers 431', async () => {
  let answered = 0;
  // An upstream that takes any head, however large: only the proxy can refuse it.
  const upstream = await rawUpstream((socket) => {
    answered++;
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream });
  const socket = await connect(proxy.listen);
  socket.write(`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(30_000)}\r\n\r\n`);
  const result = await outcome(socket);
  expect(result.data.toString('latin1')).toMatch(/^HTTP\/1\.1 431/);
  expect(answered).toBe(0);
});

test('a caller dribbling its head one byte at a time is cut off at the headers timeout, as Node does', async () => {
  const upstream = await startOkUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, limits: { headersTimeoutMs: 200 } });
  const socket = await connect(proxy.listen);
  const closed = outcome(socket, 15_000);
  // Up to 1,000 bytes 25 ms apart (25 s, longer than the wait above): the head never ends, and each
  // byte keeps the socket from going idle; only a deadline from the first byte ends it.
  const head = 'GET / HTTP/1.1\r\nx-slow: ' + 'a'.repeat(1_000);
  for (let i = 0; i < head.length && !socket.destroyed && socket.writable; i++) {
    socket.write(head[i]!);
    await delay(25);
  }
  const result = await closed;
  expect(result.data.toString('latin1')).toMatch(/^HTTP\/1\.1 408/);
  expect(upstream.seen).toEqual([]);
});


test('answers streamed at once to callers that read one after the other arrive whole: upstream reads share one buffer, and what waits for a caller is a copy', async () => {
  const bodies = new Map<string, Buffer>();
  const upstream = await startUpstream((request, response) => {
    const body = bodies.get(request.url ?? '')!;
    response.writeHead(200, { 'content-length': body.length });
    response.end(body);
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  // Larger than what the kernel buffers on loopback: each answer waits in the proxy for its caller.
  const size = 16 * 1024 * 1024;
  const callers = await Promise.all(
    [1, 2, 3].map(async (n) => {
      const path = `/body/${n}`;
      bodies.set(path, randomBytes(size));
      const socket = await connect(proxy!.listen);
      socket.pause();
      socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
      return { path, socket };
    }),
  );
  await eventually(() => upstream.seen.length === 3);
  await delay(100);
  // One caller at a time: while one reads, the upstream reads for it go on, and the others' answers wait.
  for (const { path, socket } of callers) {
    const answer = readAnswer(socket, size);
    socket.resume();
    const { head, body } = await answer;
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(sha256(body)).toBe(sha256(bodies.get(path)!));
  }
}, 30_000);

/** Reads one answer with a Content-Length body of `length` bytes: its head as text and its body. */
function readAnswer(socket: Socket, length: number): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0 || data.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve({ head: data.subarray(0, end + 4).toString('latin1'), body: data.subarray(end + 4, end + 4 + length) });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${data.length} bytes`)));
  });
}

test('a request body goes upstream right after its head, whole', async () => {
  const body = randomBytes(100_000);
  const upstream = await startUpstream((request, response, received) => {
    response.end(`${received.length} ${sha256(received)}`);
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  const socket = await connect(proxy.listen);
  socket.write(Buffer.concat([Buffer.from(`PUT /a HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`, 'latin1'), body]));
  expect(await readUntil(socket, sha256(body), 1)).toMatch(/^HTTP\/1\.1 200/);
  expect(upstream.seen.map((seen) => sha256(seen.body))).toEqual([sha256(body)]);
});

test('the attempt timeout holds for each request of a kept-alive connection: a request spanning the previous one\'s deadline is answered, a slow one after it times out', async () => {
  const upstream = await startUpstream((request, response) => {
    if (request.url === '/slow') return; // never answered
    const wait = request.url === '/medium' ? 700 : 0;
    setTimeout(() => response.end(`ok ${request.url ?? ''}`), wait);
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, resilience: resolveResilience(resilienceSchema.parse({ attempt_timeout_ms: 1_000, retries: { attempts: 1 } })) });
  const socket = await connect(proxy.listen);
  socket.write('GET /fast HTTP/1.1\r\nhost: x\r\n\r\n');
  await readUntil(socket, 'ok /fast', 1);
  // Starts half-way to the first request's deadline and ends past it, within its own.
  await delay(500);
  socket.write('GET /medium HTTP/1.1\r\nhost: x\r\n\r\n');
  expect(await readUntil(socket, 'ok /medium', 1)).toMatch(/^HTTP\/1\.1 200/);
  socket.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
  // No clock: without the timeout the answer would never come.
  expect(await readUntil(socket, 'mesh: ', 1)).toMatch(/^HTTP\/1\.1 504/);
  socket.write('GET /fast HTTP/1.1\r\nhost: x\r\n\r\n');
  expect(await readUntil(socket, 'ok /fast', 1)).toMatch(/^HTTP\/1\.1 200/);
});
