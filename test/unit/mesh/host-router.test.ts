/** One HTTP port shared by two services' proxies, told apart by the Host a request names (http/host-router.ts). */
import { afterEach, describe, expect, test } from 'vitest';
import { HttpProxy } from '../../../src/mesh/http/http-proxy.js';
import { HostRouter, hostnameOf, requestedHost } from '../../../src/mesh/http/host-router.js';
import type { MeshTelemetry, RequestRecord } from '../../../src/mesh/http/telemetry/recorder.js';
import { closeHttp, keepAliveAgent, request, startUpstream, type TestUpstream } from './http-helpers.js';
import { closeAll, connect, eventually, outcome } from './net-helpers.js';

let router: HostRouter | undefined;
const proxies: HttpProxy[] = [];

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await router?.close();
  router = undefined;
  await closeAll();
  await closeHttp();
});

/** Telemetry that keeps what it is given. */
function fakeTelemetry(): MeshTelemetry & { records: RequestRecord[] } {
  const records: RequestRecord[] = [];
  return { records, sample: () => true, record: (record) => void records.push(record), stats: () => undefined, close: () => Promise.resolve() };
}

/** An upstream answering `<name> <url>`. */
function namedUpstream(name: string): Promise<TestUpstream> {
  return startUpstream((incoming, response) => response.end(`${name} ${incoming.url ?? ''}`));
}

/** A router on 127.0.0.1:0 with an `orders` proxy (also `orders-alias`) and an `inventory` proxy behind it. */
async function sharedPort() {
  router = new HostRouter({ listen: '127.0.0.1:0', headersTimeoutMs: 500 });
  const telemetry = { orders: fakeTelemetry(), inventory: fakeTelemetry() };
  const upstreams = { orders: await namedUpstream('orders'), inventory: await namedUpstream('inventory') };
  const orders = new HttpProxy({
    name: 'orders', service: 'orders', listen: '127.0.0.1:0', upstream: upstreams.orders.address,
    sharedPort: { router, names: ['orders', 'Orders-Alias'] }, telemetry: telemetry.orders,
  });
  const inventory = new HttpProxy({
    name: 'inventory', service: 'inventory', listen: '127.0.0.1:0', upstream: upstreams.inventory.address,
    sharedPort: { router, names: ['inventory'] }, telemetry: telemetry.inventory,
  });
  proxies.push(orders, inventory);
  await orders.enable();
  await inventory.enable();
  await router.start();
  return { listen: router.listen, orders, inventory, telemetry, upstreams };
}

/** Sends raw bytes and reads the whole answer until the proxy closes. */
async function raw(listen: string, bytes: string): Promise<string> {
  const socket = await connect(listen);
  socket.write(bytes);
  return (await outcome(socket)).data.toString('latin1');
}

describe('the host a request names', () => {
  test('hostnameOf drops the port and one trailing dot, in lower case', () => {
    expect(hostnameOf('Orders:8080')).toBe('orders');
    expect(hostnameOf(' orders.shop. ')).toBe('orders.shop');
    expect(hostnameOf('[::1]:80')).toBe('[::1]');
  });

  test('requestedHost reads Host, prefers an absolute target, refuses two Host fields and malformed lines', () => {
    expect(requestedHost('GET / HTTP/1.1\r\nAccept: */*\r\nhOsT: A.b:1')).toEqual({ host: 'a.b' });
    expect(requestedHost('GET http://other:80/x HTTP/1.1\r\nHost: a')).toEqual({ host: 'other' });
    expect(requestedHost('GET / HTTP/1.1\r\nAccept: */*')).toEqual({ missing: true });
    expect(requestedHost('GET / HTTP/1.1\r\nHost: a\r\nHost: b')).toEqual({ invalid: true });
    expect(requestedHost('GET / HTTP/1.1\r\nno colon here')).toEqual({ invalid: true });
    expect(requestedHost('nonsense')).toEqual({ invalid: true });
  });
});

describe('a port shared by two services', () => {
  test('routes by Host: name:port, upper case, a trailing dot and an alias all reach the right service', async () => {
    const { listen, orders, inventory } = await sharedPort();
    expect(orders.listen).toBe(listen);
    expect(inventory.toJSON()).toMatchObject({ listen, service: 'inventory', enabled: true });
    const port = listen.split(':')[1] ?? '';
    const cases: [string, string][] = [['orders', 'orders'], [`orders:${port}`, 'orders'], ['ORDERS', 'orders'], ['orders.', 'orders'], ['orders-alias', 'orders'], ['inventory', 'inventory'], [`Inventory.:${port}`, 'inventory']];
    for (const [host, service] of cases) {
      const reply = await request(listen, { path: '/x', headers: { host } });
      expect(`${host}: ${reply.status} ${reply.body.toString()}`).toBe(`${host}: 200 ${service} /x`);
    }
  });

  test('a kept-alive connection stays with the service its first request named', async () => {
    const { listen, upstreams } = await sharedPort();
    const agent = keepAliveAgent(1);
    const first = await request(listen, { agent, headers: { host: 'inventory' } });
    const second = await request(listen, { agent, path: '/again', headers: { host: 'inventory' } });
    expect([first.body.toString(), second.body.toString()]).toEqual(['inventory /', 'inventory /again']);
    expect(second.reusedSocket).toBe(true);
    expect(upstreams.orders.seen).toHaveLength(0);
  });

  test.each([
    ['the fast lane', false],
    ['the Node path (a fault is set)', true],
  ])('on %s, a later request on the connection that names another service is a 421 and the connection closes', async (_path, withFault) => {
    const { listen, orders, upstreams } = await sharedPort();
    // A fault that never fires (toxicity 0) still moves the connection to Node's parser.
    if (withFault) orders.toxics.add({ type: 'http_abort', stream: 'upstream', toxicity: 0, attributes: { status: 500 } });
    const answer = await raw(listen, 'GET /one HTTP/1.1\r\nHost: orders\r\n\r\nGET /two HTTP/1.1\r\nHost: inventory\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 [^]*orders \/one/);
    expect(answer).toMatch(/HTTP\/1\.1 421 Misdirected Request\r\n[^]*connection: close/i);
    expect(upstreams.inventory.seen).toHaveLength(0);
    expect(upstreams.orders.seen.map((seen) => seen.url)).toEqual(['/one']);
  });

  test('an unknown or missing host is a 421 naming the hosts the port serves; a malformed head a 400; a huge one a 431', async () => {
    const { listen } = await sharedPort();
    const unknown = await request(listen, { headers: { host: 'payments' } });
    expect(unknown.status).toBe(421);
    expect(unknown.headers.connection).toBe('close');
    expect(unknown.body.toString()).toMatch(/host "payments".*serves orders, orders-alias, inventory/);
    const missing = await raw(listen, 'GET / HTTP/1.1\r\n\r\n');
    expect(missing).toMatch(/^HTTP\/1\.1 421 Misdirected Request\r\n/);
    expect(missing).toMatch(/names no host/);
    expect(await raw(listen, 'GET / HTTP/1.1\r\nbad line\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(listen, `GET / HTTP/1.1\r\nHost: orders\r\nx-big: ${'a'.repeat(17 * 1024)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
  });

  test('a caller that sends no head in time gets a 408', async () => {
    const { listen } = await sharedPort();
    expect(await raw(listen, 'GET / HTTP/1.1\r\nHost: ord')).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('disabling one service destroys its connections on the shared port; the other keeps working; enabling it again works', async () => {
    const { listen, orders } = await sharedPort();
    const agent = keepAliveAgent(1);
    expect((await request(listen, { agent, headers: { host: 'orders' } })).status).toBe(200);
    await orders.disable();
    expect(orders.toJSON()).toMatchObject({ enabled: false, listen });
    await expect(request(listen, { headers: { host: 'orders' } })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await request(listen, { headers: { host: 'inventory' } })).body.toString()).toBe('inventory /');
    await orders.enable();
    expect((await request(listen, { headers: { host: 'orders' } })).body.toString()).toBe('orders /');
  });

  test('a fault on one service does not touch the other on the same port', async () => {
    const { listen, orders, upstreams } = await sharedPort();
    orders.toxics.add({ type: 'http_abort', stream: 'upstream', attributes: { status: 418 } });
    expect((await request(listen, { headers: { host: 'orders' } })).status).toBe(418);
    expect((await request(listen, { headers: { host: 'inventory' } })).status).toBe(200);
    expect(upstreams.orders.seen).toHaveLength(0);
    expect(upstreams.inventory.seen).toHaveLength(1);
  });

  test('each service records its own requests in its own telemetry', async () => {
    const { listen, telemetry } = await sharedPort();
    for (const host of ['orders', 'inventory', 'orders-alias']) expect((await request(listen, { path: `/${host}`, headers: { host } })).status).toBe(200);
    await eventually(() => telemetry.orders.records.length + telemetry.inventory.records.length === 3);
    expect(telemetry.orders.records.map((record) => record.route).sort()).toEqual(['/orders', '/orders-alias']);
    expect(telemetry.inventory.records.map((record) => record.route)).toEqual(['/inventory']);
  });

  test('two proxies cannot claim one host; closing the router refuses new connections', async () => {
    const { listen, upstreams } = await sharedPort();
    expect(() => new HttpProxy({ name: 'x', listen: '127.0.0.1:0', upstream: upstreams.orders.address, sharedPort: { router: router as HostRouter, names: ['ORDERS.'] } })).toThrow(/host "orders".*served by "orders"/);
    await router?.close();
    await expect(connect(listen)).rejects.toThrow(/ECONNREFUSED/);
  });
});
