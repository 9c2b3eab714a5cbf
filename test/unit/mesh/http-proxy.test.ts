/** The HTTP proxy's forwarding: keep-alive, streaming, large bodies, headers, replicas, upgrades. */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { startHttpProxy, type HttpProxy } from '../../../src/mesh/index.js';
import { closeHttp, keepAliveAgent, request, startOkUpstream, startUpstream } from './http-helpers.js';
import { closeAll, connect, readBytes } from './net-helpers.js';

let proxy: HttpProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await closeHttp();
  await closeAll();
});

async function proxyTo(upstream: string): Promise<HttpProxy> {
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream });
  return proxy;
}

test('keeps connections alive to the caller and to the upstream', async () => {
  const upstream = await startOkUpstream();
  const { listen } = await proxyTo(upstream.address);
  const agent = keepAliveAgent(1);
  const replies = [];
  for (let i = 0; i < 20; i++) replies.push(await request(listen, { path: `/items/${i}`, agent }));
  expect(replies.map((reply) => reply.status)).toEqual(new Array(20).fill(200));
  expect(replies[5]?.body.toString()).toBe('ok GET /items/5');
  expect(replies.slice(1).every((reply) => reply.reusedSocket)).toBe(true);
  expect(upstream.connections).toBe(1);
});

test('streams a chunked answer: the first chunk reaches the caller before the upstream sends the last', async () => {
  let sendLast: (() => void) | undefined;
  const upstream = await startUpstream((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('first;');
    sendLast = () => response.end('last');
  });
  const { listen } = await proxyTo(upstream.address);
  const chunks: string[] = [];
  const done = new Promise<{ encoding: string | undefined }>((resolve, reject) => {
    const colon = listen.lastIndexOf(':');
    http
      .get({ host: '127.0.0.1', port: Number(listen.slice(colon + 1)), path: '/stream', agent: false }, (response) => {
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk.toString());
          // Only once the first chunk is here does the upstream send the last.
          if (chunks.length === 1) sendLast?.();
        });
        response.on('end', () => resolve({ encoding: response.headers['transfer-encoding'] }));
      })
      .on('error', reject);
  });
  const { encoding } = await done;
  expect(chunks.join('')).toBe('first;last');
  expect(chunks[0]).toBe('first;');
  expect(encoding).toBe('chunked');
});

test('streams a chunked request body upstream without waiting for its end', async () => {
  let firstSeen: (() => void) | undefined;
  const seenFirst = new Promise<void>((resolve) => (firstSeen = resolve));
  const upstream = await startUpstream(
    (req, response) => {
      const parts: Buffer[] = [];
      req.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        firstSeen?.();
      });
      req.on('end', () => response.end(`got ${Buffer.concat(parts).toString()}`));
    },
    { stream: true },
  );
  const { listen } = await proxyTo(upstream.address);
  const colon = listen.lastIndexOf(':');
  const reply = new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: Number(listen.slice(colon + 1)), method: 'POST', path: '/upload', agent: false }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('end', () => resolve(Buffer.concat(parts).toString()));
    });
    req.on('error', reject);
    req.write('part1;');
    void seenFirst.then(() => req.end('part2'));
  });
  expect(await reply).toBe('got part1;part2');
});

test('large bodies pass intact both ways', async () => {
  const upstream = await startUpstream((_request, response, body) => {
    response.writeHead(200, { 'x-body-sha256': createHash('sha256').update(body).digest('hex') });
    response.end(Buffer.concat([body, body]));
  });
  const { listen } = await proxyTo(upstream.address);
  const payload = randomBytes(3 * 1024 * 1024 + 17);
  const reply = await request(listen, { method: 'POST', path: '/echo', body: payload, timeoutMs: 15_000 });
  const sent = createHash('sha256').update(payload).digest('hex');
  expect(reply.headers['x-body-sha256']).toBe(sent);
  expect(createHash('sha256').update(reply.body).digest('hex')).toBe(createHash('sha256').update(Buffer.concat([payload, payload])).digest('hex'));
});

test('drops hop-by-hop headers, appends x-forwarded-for and sets a child traceparent', async () => {
  const upstream = await startUpstream((_request, response) => {
    response.writeHead(200, { 'x-keep': 'yes', 'x-secret-hop': 'no', connection: 'x-secret-hop' });
    response.end('ok');
  });
  const { listen } = await proxyTo(upstream.address);
  const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const reply = await request(listen, {
    headers: { connection: 'x-private, keep-alive', 'x-private': 'hop', 'x-end': 'kept', 'x-forwarded-for': '10.9.9.9', traceparent: incoming },
  });
  expect(reply.status).toBe(200);
  expect(reply.headers['x-keep']).toBe('yes');
  expect(reply.headers['x-secret-hop']).toBeUndefined();
  const seen = upstream.seen[0]?.headers ?? {};
  expect(seen['x-private']).toBeUndefined();
  expect(seen['x-end']).toBe('kept');
  expect(seen['x-forwarded-for']).toBe('10.9.9.9, 127.0.0.1');
  expect(seen.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  expect(seen.traceparent).not.toBe(incoming);
});

test('takes turns among replicas', async () => {
  const a = await startOkUpstream();
  const b = await startOkUpstream();
  const { listen } = await proxyTo(`${a.address},${b.address}`);
  for (let i = 0; i < 10; i++) expect((await request(listen)).status).toBe(200);
  expect(a.seen).toHaveLength(5);
  expect(b.seen).toHaveLength(5);
});

test('answers 502 when no replica can be reached', async () => {
  const upstream = await startOkUpstream();
  const port = upstream.port;
  await closeHttp();
  const { listen } = await proxyTo(`127.0.0.1:${port}`);
  const reply = await request(listen);
  expect(reply.status).toBe(502);
  expect(reply.body.toString()).toMatch(/connect/);
});

test('passes a WebSocket upgrade through and pipes the raw sockets after the 101', async () => {
  const upstream = await startOkUpstream();
  upstream.server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nx-saw-forwarded: ${String(req.headers['x-forwarded-for'])}\r\n\r\n`);
    socket.pipe(socket);
  });
  const { listen } = await proxyTo(upstream.address);
  const socket = await connect(listen);
  socket.write('GET /ws HTTP/1.1\r\nHost: svc\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  const head = await new Promise<string>((resolve) => {
    let text = '';
    const onData = (data: Buffer): void => {
      text += data.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  expect(head).toContain('x-saw-forwarded: 127.0.0.1');
  const frame = Buffer.from([0x81, 0x85, 1, 2, 3, 4, 0x69, 0x67, 0x6f, 0x68, 0x6e]);
  const echoed = readBytes(socket, frame.length);
  socket.write(frame);
  expect((await echoed).equals(frame)).toBe(true);
});
