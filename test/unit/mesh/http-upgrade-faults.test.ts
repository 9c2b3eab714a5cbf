/** Message faults on a WebSocket handshake: abort, drop, delay apply before it reaches the replica; a duplicate does not. */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { startHttpProxy, type HttpProxy } from '../../../src/mesh/index.js';
import { closeHttp, startOkUpstream } from './http-helpers.js';
import { closeAll, connect } from './net-helpers.js';

let proxy: HttpProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await closeHttp();
  await closeAll();
});

const HANDSHAKE = 'GET /ws HTTP/1.1\r\nHost: svc\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

/** An upstream that accepts every upgrade and echoes; counts the handshakes it saw. */
async function echoUpstream(): Promise<{ address: string; upgrades: () => number }> {
  const upstream = await startOkUpstream();
  let upgrades = 0;
  upstream.server.on('upgrade', (_request: http.IncomingMessage, socket: Socket) => {
    upgrades++;
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  return { address: upstream.address, upgrades: () => upgrades };
}

/** Sends the handshake; resolves with the head of the answer, or `reset`/`closed` when none came. */
async function handshake(listen: string): Promise<{ head: string; socket: Socket; ms: number }> {
  const socket = await connect(listen);
  const started = performance.now();
  socket.write(HANDSHAKE);
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
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNRESET' ? 'reset' : `error ${error.code ?? ''}`));
    socket.once('close', () => resolve(text || 'closed'));
  });
  return { head, socket, ms: performance.now() - started };
}

test('http_abort answers the handshake with its status, and the replica never sees it', async () => {
  const upstream = await echoUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  proxy.toxics.add({ name: 'no-ws', type: 'http_abort', stream: 'upstream', attributes: { status: 503 } });
  const { head } = await handshake(proxy.listen);
  expect(head).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
  expect(head).toContain('connection: close');
  expect(upstream.upgrades()).toBe(0);
  expect(proxy.stats().faulted).toBe(1);
});

test('http_drop in reset mode resets the caller, and the replica never sees the handshake', async () => {
  const upstream = await echoUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  proxy.toxics.add({ type: 'http_drop', stream: 'upstream', attributes: { mode: 'reset' } });
  const { head } = await handshake(proxy.listen);
  expect(head).toBe('reset');
  expect(upstream.upgrades()).toBe(0);
});

test('http_drop in hang mode holds the handshake until the fault is removed, then the upgrade goes on', async () => {
  const upstream = await echoUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  const hang = proxy.toxics.add({ type: 'http_drop', stream: 'downstream', attributes: { mode: 'hang', max_hang_ms: 60_000 } });
  const answered = handshake(proxy.listen);
  const early = await Promise.race([answered.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('pending'), 300))]);
  expect(early).toBe('pending');
  expect(upstream.upgrades()).toBe(0);
  proxy.toxics.remove(hang.name);
  const { head, socket } = await answered;
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  // The upgraded connection then carries frames both ways.
  const echoed = new Promise<Buffer>((resolve) => socket.once('data', resolve));
  socket.write(Buffer.from([0x81, 0x80, 1, 2, 3, 4]));
  expect((await echoed).equals(Buffer.from([0x81, 0x80, 1, 2, 3, 4]))).toBe(true);
});

test('http_delay holds the handshake for its delay; http_duplicate does not deliver it twice', async () => {
  const upstream = await echoUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  proxy.toxics.add({ type: 'http_delay', stream: 'upstream', attributes: { delay_ms: 200 } });
  proxy.toxics.add({ type: 'http_duplicate', stream: 'upstream' });
  const { head, ms } = await handshake(proxy.listen);
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  expect(ms).toBeGreaterThanOrEqual(190);
  expect(upstream.upgrades()).toBe(1);
  expect(proxy.stats().duplicatesSkipped).toBe(1);
});

test('a fault that does not match the handshake leaves it alone', async () => {
  const upstream = await echoUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  proxy.toxics.add({ type: 'http_abort', stream: 'upstream', attributes: { status: 503, path: '/api' } });
  const { head } = await handshake(proxy.listen);
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  expect(upstream.upgrades()).toBe(1);
});
