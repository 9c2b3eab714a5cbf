/** The fast lane's upstream pool: bounded per replica, LIFO, and a waiter that gives up holds nothing. */
import net, { type AddressInfo } from 'node:net';
import { afterEach, expect, test, vi } from 'vitest';
import { UpstreamPool, type UpstreamConnection, type UpstreamListener } from '../../../../src/mesh/http/fast/upstream-pool.js';
import type { Replica } from '../../../../src/mesh/http/replicas.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

async function replica(): Promise<Replica> {
  const server = net.createServer((socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { target: { host: '127.0.0.1', port }, address: `127.0.0.1:${port}`, consecutiveFailures: 0, ejectedUntil: 0, ejections: 0 };
}

const listener: UpstreamListener = { onData: () => undefined, onClose: () => undefined, onTimeout: () => undefined };

test('past the bound a holder waits for the next release; one that gives up leaves the queue and never gets a connection', async () => {
  const target = await replica();
  const pool = new UpstreamPool(1, 4);
  const got: string[] = [];
  let first: UpstreamConnection | undefined;
  expect(pool.acquire(target, listener, (connection) => (first = connection))).toBeUndefined();
  const leave = pool.acquire(target, listener, () => got.push('gave up'));
  pool.acquire(target, listener, () => got.push('waited'));
  expect(pool.waitingCount).toBe(2);
  leave?.();
  expect(pool.waitingCount).toBe(1);
  await vi.waitFor(() => expect(first?.connected).toBe(true));
  pool.release(first!);
  expect(got).toEqual(['waited']);
  expect(pool.waitingCount).toBe(0);
  pool.close();
  first!.socket.destroy();
});

test('a released connection is used again, the most recent first', async () => {
  const target = await replica();
  const pool = new UpstreamPool(4, 4);
  const taken: UpstreamConnection[] = [];
  pool.acquire(target, listener, (connection) => taken.push(connection));
  pool.acquire(target, listener, (connection) => taken.push(connection));
  await vi.waitFor(() => expect(taken.every((connection) => connection.connected)).toBe(true));
  pool.release(taken[0]!);
  pool.release(taken[1]!);
  let again: UpstreamConnection | undefined;
  pool.acquire(target, listener, (connection) => (again = connection));
  expect(again).toBe(taken[1]);
  expect(again?.reused).toBe(true);
  pool.close();
  for (const connection of taken) connection.socket.destroy();
});
