/** The TCP proxy without toxics: pass-through, half-close, back-pressure, errors, enable/disable, accounting. */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { startTcpProxy, TcpProxy } from '../../../src/mesh/index.js';
import { closeAll, connect, delay, eventually, outcome, readBytes, sha256, startEchoServer, startServer, staysSilent } from './net-helpers.js';

const proxies: TcpProxy[] = [];

async function proxyTo(upstream: string, options: { bufferBytes?: number } = {}): Promise<TcpProxy> {
  const proxy = await startTcpProxy({ name: 'test', listen: '127.0.0.1:0', upstream, ...options });
  proxies.push(proxy);
  return proxy;
}

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await closeAll();
});

describe('TcpProxy pass-through', () => {
  test('listens on a free port when given port 0 and reports the bound address', async () => {
    const echo = await startEchoServer();
    const proxy = await proxyTo(echo.address);
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(proxy.listen).not.toBe('127.0.0.1:0');
    expect(proxy.toJSON()).toEqual({ name: 'test', listen: proxy.listen, upstream: echo.address, enabled: true });
  });

  test('carries bytes both ways unchanged and counts them per connection', async () => {
    const echo = await startEchoServer();
    const proxy = await proxyTo(echo.address);
    const client = await connect(proxy.listen);
    const payload = randomBytes(300_000);
    const reply = readBytes(client, payload.length);
    client.write(payload);
    expect(sha256(await reply)).toBe(sha256(payload));
    const [info] = proxy.connectionInfo();
    expect(info).toMatchObject({ receivedUp: 300_000, sentUp: 300_000, receivedDown: 300_000, sentDown: 300_000 });
    expect(info?.client).toMatch(/^127\.0\.0\.1:\d+$/);
    client.end();
    await eventually(() => proxy.stats().active === 0);
    expect(proxy.stats()).toMatchObject({ accepted: 1, active: 0, receivedUp: 300_000, sentDown: 300_000 });
  });

  test('passes a half-close on: the client ends, the server still answers, then ends', async () => {
    const upstream = await startServer((socket) => {
      const parts: Buffer[] = [];
      socket.on('data', (data: Buffer) => parts.push(data));
      // Answer only after the client's FIN: proves the other direction stays open.
      socket.on('end', () => socket.end(`got ${Buffer.concat(parts).length} bytes`));
    });
    const proxy = await proxyTo(upstream.address);
    const client = await connect(proxy.listen);
    const result = outcome(client);
    client.end(Buffer.alloc(1234, 7));
    const { data, endedAfter, error } = await result;
    expect(error).toBeUndefined();
    expect(data.toString()).toBe('got 1234 bytes');
    expect(endedAfter).toBeDefined();
    await eventually(() => proxy.stats().active === 0);
  });

  test('applies back-pressure: a reader that stops reading stops the writer without the proxy buffering it all', async () => {
    let serverSocket: Socket | undefined;
    const sink = await startServer((socket) => {
      serverSocket = socket;
      socket.pause();
    });
    const proxy = await proxyTo(sink.address);
    const client = await connect(proxy.listen);
    const chunk = randomBytes(1024 * 1024);
    const count = 32;
    const expected = createHash('sha256');
    // The client queues 32 MiB in its own memory; only socket buffers' worth may reach the proxy.
    for (let i = 0; i < count; i++) {
      client.write(chunk);
      expected.update(chunk);
    }
    await delay(300);
    const stats = proxy.stats();
    expect(stats.receivedUp - stats.sentUp).toBe(0);
    expect(stats.receivedUp).toBeLessThan(8 * 1024 * 1024);
    expect(client.writableLength).toBeGreaterThan(16 * 1024 * 1024);
    // Once the reader reads again, everything arrives intact.
    const hash = createHash('sha256');
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received} bytes arrived`)), 15_000);
      serverSocket?.on('data', (data: Buffer) => {
        hash.update(data);
        received += data.length;
        if (received >= count * chunk.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      serverSocket?.resume();
    });
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
  });

  test('closes the client when the upstream cannot be reached, and counts the failure', async () => {
    const closed = await startServer(() => undefined);
    const port = closed.port;
    await closeAll();
    const proxy = await proxyTo(`127.0.0.1:${port}`);
    const client = await connect(proxy.listen);
    const result = await outcome(client);
    expect(result.data.length).toBe(0);
    await eventually(() => proxy.stats().upstreamFailures === 1);
    expect(proxy.stats().active).toBe(0);
  });

  test('destroys both sides together when one side fails', async () => {
    const upstream = await startServer((socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    });
    const proxy = await proxyTo(upstream.address);
    const client = await connect(proxy.listen);
    const result = outcome(client);
    client.write('hello');
    const { closedAfter } = await result;
    expect(closedAfter).toBeGreaterThanOrEqual(0);
    await eventually(() => proxy.stats().active === 0);
  });
});

describe('TcpProxy enable / disable', () => {
  test('disabling closes live connections and refuses new ones; enabling listens again on the same address', async () => {
    const echo = await startEchoServer();
    const proxy = await proxyTo(echo.address);
    const address = proxy.listen;
    const client = await connect(address);
    const result = outcome(client);
    await proxy.disable();
    expect(proxy.enabled).toBe(false);
    await result;
    await expect(connect(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.enable();
    expect(proxy.listen).toBe(address);
    const again = await connect(address);
    const reply = readBytes(again, 4);
    again.write('ping');
    expect((await reply).toString()).toBe('ping');
  });

  test('a new upstream restarts the proxy and is used by new connections', async () => {
    const first = await startServer((socket) => socket.end('first'));
    const second = await startServer((socket) => socket.end('second'));
    const proxy = await proxyTo(first.address);
    expect((await outcome(await connect(proxy.listen))).data.toString()).toBe('first');
    await proxy.update({ upstream: second.address });
    expect(proxy.enabled).toBe(true);
    expect((await outcome(await connect(proxy.listen))).data.toString()).toBe('second');
  });

  test('refuses an address it cannot bind with a 500 MeshError naming it', async () => {
    const taken = await startServer(() => undefined);
    const proxy = new TcpProxy({ name: 'clash', listen: taken.address, upstream: taken.address });
    await expect(proxy.enable()).rejects.toMatchObject({ status: 500, code: 'MESH_LISTEN_FAILED' });
    expect(proxy.enabled).toBe(false);
  });

  test('close() stops listening and ends connections', async () => {
    const echo = await startEchoServer();
    const proxy = await proxyTo(echo.address);
    const client = await connect(proxy.listen);
    const silent = staysSilent(client, 2_000);
    await proxy.close();
    expect(await silent).toBe(false);
    await expect(connect(proxy.listen)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
