/**
 * Lifecycle of a mesh proxy process's proxies while upstreams do not resolve yet and on shared ports:
 * disabling and closing never wait for idle callers, populate moves a proxy off a shared port when
 * asked for another listen, starting never waits for DNS, and each service keeps its connection cap.
 */
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { LookupAll } from '../../../src/mesh/caller-resolver.js';
import { HostRouter } from '../../../src/mesh/http/host-router.js';
import { HttpProxy } from '../../../src/mesh/http/http-proxy.js';
import { UNRESOLVED_RETRY_MS } from '../../../src/mesh/http/upstream-resolver.js';
import { ProxyRegistry } from '../../../src/mesh/proxy-registry.js';
import { runMeshProxy, type RunningMeshProxy } from '../../../src/mesh/proxy-main.js';
import { closeHttp, keepAliveAgent, request, startUpstream } from './http-helpers.js';
import { closeAll, connect, delay, eventually, readBytes } from './net-helpers.js';

const HOUR = 3_600_000;

/** Long enough to tell "settles now" from "waits for a timeout of an hour", and well within the test's own timeout. */
const SETTLES_WITHIN_MS = 15_000;
const TEST_TIMEOUT_MS = 30_000;

const cleanups: (() => Promise<unknown>)[] = [];
let running: RunningMeshProxy | undefined;

afterEach(async () => {
  // Callers first: a close that (wrongly) waits for them is released when they go.
  await closeAll();
  await closeHttp();
  await running?.close();
  running = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Whether `promise` settles before `ms`: the assertion is "it does not wait for a long timeout". */
async function settlesWithin(promise: Promise<unknown>, ms = SETTLES_WITHIN_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = promise.then(() => true as const, () => true as const);
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A DNS whose answers the test sets, counting lookups; unknown names fail as ENOTFOUND does, and
 * `hold()` makes every lookup wait until `release()`.
 */
function fakeDns(answers: Record<string, string[]> = {}) {
  const calls: string[] = [];
  let held: Promise<void> | undefined;
  let release = (): void => undefined;
  const answer = (host: string): Promise<{ address: string }[]> => {
    const found = answers[host];
    return found ? Promise.resolve(found.map((address) => ({ address }))) : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  };
  const lookup: LookupAll = (host) => {
    calls.push(host);
    return held ? held.then(() => answer(host)) : answer(host);
  };
  return {
    lookup, calls, answers,
    hold(): void {
      held = new Promise((resolve) => (release = resolve));
    },
    release(): void {
      held = undefined;
      release();
    },
  };
}

/** A port free now (a shared port needs a fixed number: port 0 is never shared). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Sends a request for `host` on a raw connection and reads its answer's status line. The caller never
 * ends its side (allowHalfOpen), as one slow to read the answer: the server side lingers.
 */
async function askAndKeepOpen(listen: string, host: string): Promise<string> {
  const socket = await connect(listen);
  socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  return (await readBytes(socket, 12)).toString('latin1');
}

describe('callers of an upstream that does not resolve yet', () => {
  test('disabling the proxy (dedicated port) does not wait for an idle caller, nor hold the registry', async () => {
    const dns = fakeDns();
    const registry = new ProxyRegistry({ http: { lookup: dns.lookup, upstreamRefreshMs: HOUR, limits: { headersTimeoutMs: HOUR } } });
    cleanups.push(() => registry.close());
    const proxy = await registry.create({ name: 'api', kind: 'http', upstream: 'api-upstream:80' });
    await eventually(() => dns.calls.length === 1);
    // Past the negative cache, so the new connection asks DNS itself: the sign the proxy holds it.
    await delay(UNRESOLVED_RETRY_MS + 50);
    await connect(proxy.listen); // idle: it sends nothing
    await eventually(() => dns.calls.length === 2);

    const disabled = registry.update('api', { enabled: false });
    // Queued behind the disable on the registry's lock.
    const queued = registry.update('api', { enabled: true });
    expect(await settlesWithin(disabled)).toBe(true);
    expect(await settlesWithin(queued)).toBe(true);
    expect(proxy.enabled).toBe(true);
  }, TEST_TIMEOUT_MS);

  test('closing the proxy on a shared port does not wait for a caller answered 503, so the router closes at once', async () => {
    const dns = fakeDns();
    const router = new HostRouter({ listen: '127.0.0.1:0', lingerMs: HOUR });
    const proxy = new HttpProxy({
      name: 'api', service: 'api', listen: '127.0.0.1:0', upstream: 'api-upstream:80', lookup: dns.lookup, upstreamRefreshMs: HOUR,
      sharedPort: { router, names: ['api'] }, limits: { answerLingerMs: HOUR },
    });
    cleanups.push(() => router.close(), () => proxy.close());
    await proxy.enable();
    await router.start();
    const status = await askAndKeepOpen(router.listen, 'api');
    expect(status).toBe('HTTP/1.1 503');

    expect(await settlesWithin(proxy.close())).toBe(true);
    expect(await settlesWithin(router.close())).toBe(true);
  }, TEST_TIMEOUT_MS);

  test('closing a router does not wait for a caller it answered 421', async () => {
    const router = new HostRouter({ listen: '127.0.0.1:0', lingerMs: HOUR, headersTimeoutMs: HOUR });
    cleanups.push(() => router.close());
    await router.start();
    const status = await askAndKeepOpen(router.listen, 'nobody');
    expect(status).toBe('HTTP/1.1 421');

    expect(await settlesWithin(router.close())).toBe(true);
  }, TEST_TIMEOUT_MS);
});

describe('populate and a shared port', () => {
  test('a populate that asks for another listen moves the proxy off the shared port, and a second one keeps it (toxics included)', async () => {
    const port = await freePort();
    const own = await freePort();
    const orders = await startUpstream((incoming, response) => response.end(`orders ${incoming.url ?? ''}`));
    const inventory = await startUpstream((incoming, response) => response.end(`inventory ${incoming.url ?? ''}`));
    running = await runMeshProxy({
      host: '127.0.0.1',
      services: [
        { service: 'orders', listeners: [{ port, kind: 'http', upstreams: [orders.address], name: 'orders' }] },
        { service: 'inventory', listeners: [{ port, kind: 'http', upstreams: [inventory.address], name: 'inventory' }] },
      ],
      api: { host: '127.0.0.1', port: 0 },
    });
    const shared = `127.0.0.1:${port}`;
    const ownListen = `127.0.0.1:${own}`;
    const item = { name: 'orders', kind: 'http', listen: ownListen, upstream: orders.address };

    const [moved] = await running.registry.populate([item]);
    expect(moved?.toJSON()).toMatchObject({ listen: ownListen, service: 'orders', enabled: true });
    expect((await request(ownListen, { path: '/own' })).body.toString()).toBe('orders /own');
    expect((await request(shared, { headers: { host: 'orders' } })).status).toBe(421);
    expect((await request(shared, { headers: { host: 'inventory' } })).body.toString()).toBe('inventory /');

    moved?.toxics.add({ name: 'slow', type: 'http_delay', stream: 'upstream', attributes: { delay_ms: 1 } });
    const [again] = await running.registry.populate([item]);
    expect(again).toBe(moved);
    expect(again?.toxics.list().map((toxic) => toxic.name)).toEqual(['slow']);

    // Asking for the shared port's own address puts it back there.
    const [back] = await running.registry.populate([{ ...item, listen: shared }]);
    expect(back?.listen).toBe(shared);
    expect((await request(shared, { path: '/back', headers: { host: 'orders' } })).body.toString()).toBe('orders /back');
  });
});

describe('starting before DNS answers', () => {
  test('the proxies and the API start while lookups have not answered; a request waits for the lookup under way and then reaches the replica', async () => {
    const upstream = await startUpstream((_incoming, response) => response.end('late'));
    const dns = fakeDns({ 'api-upstream': ['127.0.0.1'], 'web-upstream': ['127.0.0.1'] });
    dns.hold();
    const started = runMeshProxy(
      {
        host: '127.0.0.1',
        services: [
          { service: 'api', listeners: [{ port: 0, kind: 'http', upstreams: [`api-upstream:${upstream.port}`], name: 'api' }] },
          { service: 'web', listeners: [{ port: 0, kind: 'http', upstreams: [`web-upstream:${upstream.port}`], name: 'web' }] },
        ],
        api: { host: '127.0.0.1', port: 0 },
        upstreamRefreshMs: HOUR,
      },
      { lookup: dns.lookup },
    );
    cleanups.push(async () => {
      dns.release();
      await (await started).close();
    });
    expect(await settlesWithin(started)).toBe(true);
    const { proxies, api } = await started;
    expect((await fetch(`${api.url}/version`)).status).toBe(200);
    expect(dns.calls.sort()).toEqual(['api-upstream', 'web-upstream']);

    // Sent while the lookup is still held: the connection waits for it, then goes upstream.
    const answer = request(proxies[0]?.listen ?? '', { path: '/x' });
    await delay(50);
    dns.release();
    expect((await answer).body.toString()).toBe('late');
    expect((await request(proxies[1]?.listen ?? '')).body.toString()).toBe('late');
  }, TEST_TIMEOUT_MS);
});

describe('per-service connection cap on a shared port', () => {
  test("a service's maxConnections applies to the connections the router hands it; the other service is not limited by it", async () => {
    const router = new HostRouter({ listen: '127.0.0.1:0' });
    const upstream = await startUpstream((_incoming, response) => response.end('ok'));
    const capped = new HttpProxy({ name: 'orders', listen: '127.0.0.1:0', upstream: upstream.address, sharedPort: { router, names: ['orders'] }, limits: { maxConnections: 2 } });
    const other = new HttpProxy({ name: 'inventory', listen: '127.0.0.1:0', upstream: upstream.address, sharedPort: { router, names: ['inventory'] } });
    cleanups.push(() => router.close(), () => capped.close(), () => other.close());
    await capped.enable();
    await other.enable();
    await router.start();

    const agent = keepAliveAgent(2);
    const first = await Promise.all([request(router.listen, { agent, headers: { host: 'orders' } }), request(router.listen, { agent, headers: { host: 'orders' } })]);
    expect(first.map((reply) => reply.status)).toEqual([200, 200]);
    // Both connections stay open in the agent's pool: a third one is past the cap.
    await expect(request(router.listen, { agent: false, headers: { host: 'orders' } })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await request(router.listen, { agent: false, headers: { host: 'inventory' } })).status).toBe(200);

    // Once a connection closes, its place is free again.
    agent.destroy();
    const ask = () => request(router.listen, { agent: false, headers: { host: 'orders' } }).catch(() => undefined);
    let reply = await ask();
    for (let i = 0; reply === undefined && i < 100; i++) {
      await delay(20);
      reply = await ask();
    }
    expect(reply?.status).toBe(200);
  });
});
