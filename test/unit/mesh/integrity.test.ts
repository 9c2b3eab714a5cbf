/**
 * The pass-through path under concurrent load while toxics come and go: 50 connections each echo
 * 1 MiB of random bytes through the proxy while a loop adds and removes latency and slicer toxics
 * on both directions. Every byte must come back, in order, unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../../src/mesh/index.js';
import { closeAll, connect, delay, eventually, readBytes, sha256, startEchoServer, startServer } from './net-helpers.js';

const CONNECTIONS = 50;
const BYTES = 1024 * 1024;
const PIECE = 16 * 1024;

let proxy: TcpProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await closeAll();
});

/** Writes `payload` in pieces, respecting back-pressure, then half-closes. */
async function send(socket: Socket, payload: Buffer): Promise<void> {
  for (let offset = 0; offset < payload.length; offset += PIECE) {
    if (!socket.write(payload.subarray(offset, offset + PIECE))) {
      await new Promise<void>((resolve) => socket.once('drain', resolve));
    }
  }
  socket.end();
}

test('50 connections × 1 MiB echo through churning latency and slicer toxics lose and corrupt nothing', async () => {
  const echo = await startEchoServer();
  proxy = await startTcpProxy({ name: 'load', listen: '127.0.0.1:0', upstream: echo.address, bufferBytes: 64 * 1024 });
  const live = proxy;
  const payloads = Array.from({ length: CONNECTIONS }, () => randomBytes(BYTES));
  const clients = await Promise.all(payloads.map(() => connect(live.listen)));

  let running = true;
  let changes = 0;
  let emptyStates = 0;
  let seed = 7;
  const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const churn = (async () => {
    const deadline = performance.now() + 20_000;
    for (let round = 0; running && round < 5_000 && performance.now() < deadline; round++) {
      const toxics = live.toxics.list();
      const roll = random();
      if (toxics.length >= 3 || (toxics.length > 0 && roll < 0.35)) {
        // Remove one (sometimes all): the chain goes back to empty often, exercising the switch to the fast path.
        const victims = roll < 0.1 ? toxics : [toxics[Math.floor(random() * toxics.length)]];
        for (const victim of victims) if (victim) live.toxics.remove(victim.name);
        changes += victims.length;
        if (live.toxics.list().length === 0) emptyStates++;
      } else if (toxics.length > 0 && roll < 0.5) {
        const target = toxics[Math.floor(random() * toxics.length)];
        if (target) live.toxics.update(target.name, { toxicity: random() < 0.5 ? 1 : 0.5 });
        changes++;
      } else {
        const stream = random() < 0.5 ? 'upstream' : 'downstream';
        const name = `t${round}`;
        live.toxics.add(
          random() < 0.4
            ? { name, type: 'slicer', stream, attributes: { average_size: 1_500, size_variation: 500, delay: 0 } }
            : { name, type: 'latency', stream, attributes: { latency: 3, jitter: 2 } },
        );
        changes++;
      }
      // Readers stall now and then, so writes back up and the pump waits on full sockets.
      for (const client of clients) {
        if (random() < 0.2) client.pause();
        else client.resume();
      }
      await delay(1 + Math.floor(random() * 4));
    }
    for (const client of clients) client.resume();
  })();

  const results = await Promise.all(
    clients.map(async (client, index) => {
      const payload = payloads[index] ?? Buffer.alloc(0);
      const echoed = readBytes(client, payload.length, 25_000);
      await send(client, payload);
      return sha256(await echoed) === sha256(payload);
    }),
  );
  running = false;
  await churn;

  expect(changes).toBeGreaterThan(50);
  expect(emptyStates).toBeGreaterThan(5);
  expect(results.filter((ok) => !ok)).toEqual([]);
  await eventually(() => live.stats().active === 0, 5_000);
  const stats = live.stats();
  expect(stats.receivedUp).toBe(CONNECTIONS * BYTES);
  expect(stats.sentUp).toBe(CONNECTIONS * BYTES);
  expect(stats.sentDown).toBe(CONNECTIONS * BYTES);
}, 40_000);

test('removing the only toxic while it holds a chunk and bytes wait behind a slow reader loses and reorders nothing', async () => {
  let sinkSocket: Socket | undefined;
  const parts: Buffer[] = [];
  const sink = await startServer((socket) => {
    sinkSocket = socket;
    socket.pause();
    socket.on('data', (data: Buffer) => parts.push(data));
  });
  proxy = await startTcpProxy({ name: 'order', listen: '127.0.0.1:0', upstream: sink.address, bufferBytes: 1024 * 1024 });
  proxy.toxics.add({ name: 'lat', type: 'latency', stream: 'upstream', attributes: { latency: 50 } });
  const client = await connect(proxy.listen);
  const payload = randomBytes(8 * 1024 * 1024);
  const sent = send(client, payload);
  // Let the queue fill behind the stalled sink, then drop the only toxic mid-stream.
  await eventually(() => (proxy?.stats().receivedUp ?? 0) > 2 * 1024 * 1024);
  proxy.toxics.remove('lat');
  // A slow reader: the proxy waits on a full socket with bytes still queued while new bytes arrive.
  for (let i = 0; i < 100 && !sinkSocket?.readableEnded; i++) {
    sinkSocket?.resume();
    await delay(1);
    sinkSocket?.pause();
    await delay(2);
  }
  sinkSocket?.resume();
  await sent;
  await eventually(() => parts.reduce((sum, part) => sum + part.length, 0) >= payload.length, 10_000);
  expect(sha256(Buffer.concat(parts))).toBe(sha256(payload));
});
