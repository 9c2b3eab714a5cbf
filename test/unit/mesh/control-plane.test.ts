/**
 * The mesh control plane over fake proxy containers (real Toxiproxy-compatible APIs on port 0), driven
 * by the published Toxiproxy JS client and by raw HTTP for exact statuses and shapes.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { driverDiscovery, endpointOf } from '../../../src/mesh/control-plane-discovery.js';
import { publicNames, serviceOwns } from '../../../src/mesh/control-plane-index.js';
import { startControlPlane, UNREACHABLE_HEADER, type StartedControlPlane } from '../../../src/mesh/control-plane.js';
import { TOXIPROXY_API_VERSION } from '../../../src/mesh/index.js';
import type { ObservedContainer } from '../../../src/runtime/driver.js';
import { fakeMeshDriver, startFakeContainer, startSilentContainer, type FakeContainer, type Listed } from './control-plane-helpers.js';
import { closeAll, connect, roundTrip, startEchoServer, type TestServer } from './net-helpers.js';

let echo: TestServer;
let orders: FakeContainer;
let inventory: FakeContainer;
let listed: Listed[];
let driver: ReturnType<typeof fakeMeshDriver>;
let plane: StartedControlPlane;
let client: Toxiproxy;
const closers: (() => Promise<void>)[] = [];

async function startPlane(options: { cacheMs?: number; callTimeoutMs?: number; now?: () => number } = {}): Promise<void> {
  plane = await startControlPlane({ port: 0, discovery: driverDiscovery(driver), ...options });
  closers.push(() => plane.close());
  client = new Toxiproxy(plane.url);
}

beforeEach(async () => {
  echo = await startEchoServer();
  // shop/orders: one HTTP port and one TCP port (S-<port> names); shop/inventory: one port (S).
  orders = await startFakeContainer('shop', 'orders', [
    { name: 'orders-80', listen: '127.0.0.1:0', upstream: echo.address, kind: 'http' },
    { name: 'orders-9000', listen: '127.0.0.1:0', upstream: echo.address },
  ]);
  inventory = await startFakeContainer('shop', 'inventory', [{ name: 'inventory', listen: '127.0.0.1:0', upstream: echo.address }]);
  closers.push(orders.close, inventory.close);
  listed = [orders, inventory];
  driver = fakeMeshDriver(listed);
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await closeAll();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; headers: Headers }> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${plane.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined, headers: response.headers };
}

describe('with the published Toxiproxy client', () => {
  test('lists the proxies of every container under their names, with where they run', async () => {
    await startPlane();
    const all = await client.getAll();
    expect(Object.keys(all).sort()).toEqual(['inventory', 'orders-80', 'orders-9000']);
    expect(all['inventory']?.upstream).toBe(echo.address);
    expect((await call('GET', '/proxies')).json).toMatchObject({
      'orders-80': { name: 'orders-80', kind: 'http', project: 'shop', service: 'orders', enabled: true, toxics: [] },
      inventory: { name: 'inventory', project: 'shop', service: 'inventory', toxics: [] },
    });
    expect(JSON.parse(await client.getVersion())).toMatchObject({ version: TOXIPROXY_API_VERSION });
  });

  test('a container serving several services: each proxy shows the service it fronts, not the container\'s', async () => {
    const shared = await startFakeContainer('shop', 'flotilla-mesh-1', []);
    closers.push(shared.close);
    await shared.registry.populate([
      { name: 'payments', listen: '127.0.0.1:0', upstream: echo.address, kind: 'http', service: 'payments' },
      { name: 'ledger', listen: '127.0.0.1:0', upstream: echo.address, service: 'ledger' },
    ]);
    listed.push(shared);
    await startPlane();
    expect((await call('GET', '/proxies')).json).toMatchObject({
      payments: { project: 'shop', service: 'payments', kind: 'http' },
      ledger: { project: 'shop', service: 'ledger' },
      inventory: { service: 'inventory' },
    });
  });

  test('adds, reads, updates and removes a toxic in the right container, and it really delays traffic', async () => {
    await startPlane();
    const proxy = await client.get('inventory');
    expect(proxy.name).toBe('inventory');
    const toxic = await proxy.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    expect(toxic.toJson()).toEqual({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    expect(inventory.registry.get('inventory').toxics.list().map((t) => t.name)).toEqual(['lat']);
    expect(orders.registry.list().every((p) => p.toxics.list().length === 0)).toBe(true);
    // The container's proxy carries real traffic through the toxic.
    const socket = await connect(inventory.registry.get('inventory').listen);
    expect(await roundTrip(socket, Buffer.from('x'))).toBeGreaterThanOrEqual(95);

    const updated = await toxic.update({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 0.5, attributes: { latency: 250, jitter: 0 } });
    expect(updated.toxicity).toBe(0.5);
    expect((await proxy.getToxic('lat')).attributes).toEqual({ latency: 250, jitter: 0 });

    await toxic.remove();
    await expect(proxy.getToxic('lat')).rejects.toThrow(/404/);
    expect(inventory.registry.get('inventory').toxics.list()).toEqual([]);
  });

  test('forwards message faults to HTTP proxies, and the container refuses them on TCP proxies', async () => {
    await startPlane();
    // The published client's types know only Toxiproxy's toxic types: the message fault goes as raw JSON.
    const added = await call('POST', '/proxies/orders-80/toxics', { name: 'abort', type: 'http_abort', stream: 'upstream', toxicity: 0.2, attributes: { status: 503 } });
    expect(added.status).toBe(200);
    expect(orders.registry.get('orders-80').toxics.get('abort').attributes).toMatchObject({ status: 503 });
    const refused = await call('POST', '/proxies/orders-9000/toxics', { type: 'http_drop', attributes: {} });
    expect(refused).toMatchObject({ status: 400, json: { error: 'invalid toxic type', status: 400 } });
  });

  test('resets every container: toxics removed, proxies enabled', async () => {
    await startPlane();
    await (await client.get('inventory')).addToxic({ name: 't', type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } });
    await (await client.get('orders-9000')).addToxic({ name: 'l', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 5 } });
    const tcp = await client.get('orders-9000');
    const down = await tcp.update({ enabled: false, listen: tcp.listen, upstream: tcp.upstream });
    expect(down.enabled).toBe(false);
    expect(orders.registry.get('orders-9000').enabled).toBe(false);
    await expect(connect(orders.registry.get('orders-9000').listen)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await client.reset();
    expect(inventory.registry.get('inventory').toxics.list()).toEqual([]);
    expect(orders.registry.get('orders-9000').toxics.list()).toEqual([]);
    expect(orders.registry.get('orders-9000').enabled).toBe(true);
  });

  test('populates only with what exists unchanged (201), so a test that populates from GET /proxies runs', async () => {
    await startPlane();
    const current = await client.get('inventory');
    const result = await client.populate([{ name: 'inventory', listen: current.listen, upstream: current.upstream }]);
    expect(Object.keys(result)).toEqual(['inventory']);
    await expect(client.populate([{ name: 'inventory', listen: current.listen, upstream: '127.0.0.1:1' }])).rejects.toThrow(/400/);
    await expect(client.populate([{ name: 'redis', listen: '127.0.0.1:0', upstream: echo.address }])).rejects.toThrow(/400/);
    await expect(client.createProxy({ name: 'redis', listen: '127.0.0.1:0', upstream: echo.address })).rejects.toThrow(/400/);
    await expect(current.remove()).rejects.toThrow(/400/);
    // Nothing changed in the container.
    expect(inventory.registry.get('inventory').upstream).toBe(echo.address);
  });
});

describe('names across projects', () => {
  let other: FakeContainer;

  beforeEach(async () => {
    other = await startFakeContainer('blog', 'inventory', [{ name: 'inventory', listen: '127.0.0.1:0', upstream: echo.address }]);
    closers.push(other.close);
    listed.push(other);
  });

  test('a name in two projects is listed as project.name; the bare name is ambiguous (409)', async () => {
    await startPlane();
    expect(Object.keys(await client.getAll()).sort()).toEqual(['blog.inventory', 'orders-80', 'orders-9000', 'shop.inventory']);
    const ambiguous = await call('GET', '/proxies/inventory');
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.json).toMatchObject({ error: 'proxy name is ambiguous', status: 409 });
    expect((ambiguous.json as { hint: string }).hint).toContain('blog.inventory');
  });

  test('project.name reaches that project’s container, and the client works with the names it was given', async () => {
    await startPlane();
    const blog = await client.get('blog.inventory');
    expect(blog.name).toBe('blog.inventory');
    await blog.addToxic({ name: 'slow', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 10 } });
    expect(other.registry.get('inventory').toxics.list().map((t) => t.name)).toEqual(['slow']);
    expect(inventory.registry.get('inventory').toxics.list()).toEqual([]);
    // The prefix is always accepted, also for names that are unique.
    expect((await client.get('shop.orders-80')).name).toBe('shop.orders-80');
    expect((await call('GET', '/proxies/shop.orders-80/toxics')).json).toEqual([]);
    expect((await call('GET', '/proxies/nope.orders-80')).status).toBe(404);
  });
});

describe('discovery', () => {
  test('is cached, refreshed on a miss, and a container that disappears is dropped', async () => {
    let now = 0;
    await startPlane({ cacheMs: 1_000, now: () => now });
    await client.getAll();
    await client.get('inventory');
    await client.get('orders-80');
    expect(driver.calls).toBe(1);

    // A new container is found by the request that names it, before the cache expires.
    const cart = await startFakeContainer('shop', 'cart', [{ name: 'cart', listen: '127.0.0.1:0', upstream: echo.address }]);
    closers.push(cart.close);
    listed.push(cart);
    now += 300;
    expect((await client.get('cart')).name).toBe('cart');
    expect(driver.calls).toBe(2);

    // inventory goes away: its API closes and the Engine stops listing it.
    await inventory.close();
    listed.splice(listed.indexOf(inventory), 1);
    const gone = await call('GET', '/proxies/inventory');
    expect(gone).toMatchObject({ status: 404, json: { error: 'proxy not found', status: 404 } });
    now += 1_000;
    expect(Object.keys(await client.getAll()).sort()).toEqual(['cart', 'orders-80', 'orders-9000']);
  });

  test('a container still listed but not answering is reported, not waited for', async () => {
    await startPlane({ cacheMs: 60_000 });
    await client.getAll();
    await inventory.close();
    const list = await call('GET', '/proxies');
    expect(Object.keys(list.json as object).sort()).toEqual(['orders-80', 'orders-9000']);
    expect(list.headers.get(UNREACHABLE_HEADER)).toMatch(/^shop\/inventory: /);
    const forwarded = await call('GET', '/proxies/inventory');
    expect(forwarded.status).toBe(502);
    expect(forwarded.json).toMatchObject({ status: 502, error: expect.stringContaining('shop/inventory') as unknown });
  });

  test('a paused container is answered for at once (503), and is reached again once unpaused', async () => {
    // A paused container's port accepts connections and never answers: model it with a silent API, so a plane
    // that called it anyway would wait for its call timeout and answer 504, not 503. Not a clock: the silent
    // API also counts connections, and must see none.
    const silent = await startSilentContainer('shop', 'inventory');
    closers.push(silent.close);
    let contacted = 0;
    silent.server.on('connection', () => contacted++);
    const entry = listed.find((item) => item === inventory);
    if (!entry) throw new Error('no inventory');
    const apiPort = entry.port;
    entry.state = 'paused';
    entry.port = silent.port;
    await startPlane({ cacheMs: 60_000 });
    await client.getAll();
    const paused = await call('GET', '/proxies/inventory');
    expect(paused).toMatchObject({ status: 503, json: { error: 'the mesh proxy of shop/inventory is paused', status: 503 } });
    expect((await call('GET', '/proxies')).headers.get(UNREACHABLE_HEADER)).toContain('shop/inventory: the mesh proxy of shop/inventory is paused');
    expect(contacted).toBe(0);
    // Unpaused: the next call finds out, although the cache is young.
    entry.state = 'running';
    entry.port = apiPort;
    expect((await call('GET', '/proxies/inventory')).status).toBe(200);
  });

  test('an Engine that cannot be reached is a 503 in Toxiproxy’s error shape', async () => {
    driver.fail = new Error('Cannot reach the Docker daemon');
    await startPlane();
    const answer = await call('GET', '/proxies');
    expect(answer.status).toBe(503);
    expect(answer.json).toMatchObject({ status: 503, error: expect.stringContaining('Cannot reach the Docker daemon') as unknown });
  });

  test('only running containers that publish the API port are endpoints; a wildcard binding is reached on loopback', () => {
    const base: ObservedContainer = {
      id: 'x', name: 'x', project: 'p', service: 's', replica: 1, configHash: '', imageId: '', state: 'running', exitCode: 0, labels: {},
      ports: [{ hostIp: '0.0.0.0', hostPort: 32768, containerPort: 8474, protocol: 'tcp' }],
    };
    expect(endpointOf(base)).toEqual({ project: 'p', service: 's', containerId: 'x', url: 'http://127.0.0.1:32768' });
    expect(endpointOf({ ...base, state: 'paused' })).toMatchObject({ paused: true });
    expect(endpointOf({ ...base, state: 'exited' })).toBeUndefined();
    expect(endpointOf({ ...base, ports: [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] })).toBeUndefined();
  });

  test('names: S or S-<port> belong to S; a name is prefixed only where it repeats', () => {
    expect(serviceOwns('orders', 'orders')).toBe(true);
    expect(serviceOwns('orders', 'orders-5432')).toBe(true);
    expect(serviceOwns('orders', 'orders-api')).toBe(false);
    const endpoint = (project: string) => ({ project, service: 's', containerId: project, url: '' });
    expect(publicNames([{ endpoint: endpoint('a'), remote: 's' }, { endpoint: endpoint('b'), remote: 's' }, { endpoint: endpoint('b'), remote: 't' }])).toEqual(['a.s', 'b.s', 't']);
  });
});

describe('never blocks', () => {
  // The silent container never answers; the others answer at once. The call timeout (5 s) only has to be far
  // beyond any plausible answer from a healthy container on loopback: no assertion bounds how long anything took.
  test('a container that does not answer costs its own requests the timeout, and no one else’s', async () => {
    const silent = await startSilentContainer('shop', 'payments');
    closers.push(silent.close);
    listed.push(silent);
    const reached = new Promise<void>((resolve) => silent.server.once('request', () => resolve()));
    await startPlane({ callTimeoutMs: 5_000 });
    await (await client.get('inventory')).addToxic({ name: 't', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 1 } });

    const settled: string[] = [];
    const pending = call('POST', '/proxies/payments/toxics', { type: 'latency', attributes: { latency: 1 } }).finally(() => settled.push('payments'));
    // The stalled call is really waiting on its container...
    await reached;
    // ...and meanwhile another container is reached: its answer comes while the stalled one is still pending.
    const other = await call('GET', '/proxies/inventory');
    settled.push('inventory');
    expect(other.status).toBe(200);
    expect(settled).toEqual(['inventory']);

    // The list and reset come back with what answered, naming what did not (each waits out the timeout, so all at once).
    const [stalled, list, reset] = await Promise.all([pending, call('GET', '/proxies'), call('POST', '/reset')]);
    expect(stalled.status).toBe(504);
    expect(stalled.json).toMatchObject({ status: 504, error: 'the mesh proxy of shop/payments did not answer within 5s' });
    expect(settled).toEqual(['inventory', 'payments']);
    expect(Object.keys(list.json as object).sort()).toEqual(['inventory', 'orders-80', 'orders-9000']);
    expect(list.headers.get(UNREACHABLE_HEADER)).toContain('shop/payments: the mesh proxy of shop/payments did not answer within 5s');
    // Reset resets what answers and says which did not.
    expect(reset.status).toBe(502);
    expect(reset.json).toMatchObject({ error: expect.stringMatching(/^reset 2 of 3 mesh proxies; .*shop\/payments/) as unknown });
    expect(inventory.registry.get('inventory').toxics.list()).toEqual([]);
  }, 30_000);
});

describe('security and API shape', () => {
  test('browsers are refused (User-Agent Mozilla, or any Origin), as Toxiproxy refuses them', async () => {
    await startPlane();
    expect(await call('POST', '/reset', undefined, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' })).toMatchObject({ status: 403, json: { error: 'User agent not allowed' } });
    expect((await call('POST', '/reset', undefined, { origin: 'http://evil.example' })).status).toBe(403);
    expect(plane.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('a port already taken is an error that says what to do', async () => {
    await startPlane();
    const port = Number(new URL(plane.url).port);
    await expect(startControlPlane({ port, discovery: driverDiscovery(driver) })).rejects.toMatchObject({
      code: 'MESH_API_PORT_IN_USE',
      hint: expect.stringContaining('--mesh-port') as unknown,
    });
  });

  test('updating a proxy forwards only enabled; listen and upstream belong to the Compose file', async () => {
    await startPlane();
    const changed = await call('POST', '/proxies/inventory', { upstream: '127.0.0.1:1' });
    expect(changed.status).toBe(400);
    expect((changed.json as { error: string }).error).toMatch(/upstream of "inventory" cannot change/);
    const patched = await call('PATCH', '/proxies/inventory', { enabled: false });
    expect(patched).toMatchObject({ status: 200, json: { name: 'inventory', enabled: false, project: 'shop' } });
    expect(inventory.registry.get('inventory').enabled).toBe(false);
    expect((await call('GET', '/nowhere')).json).toEqual({ error: 'not found', status: 404 });
    expect((await call('POST', '/proxies/inventory/toxics', '{not json')).status).toBe(400);
  });
});

describe('proxy containers with tokens', () => {
  test('the control plane reads each container’s token from the Engine once and sends it; Toxiproxy clients send none', async () => {
    const payments = await startFakeContainer('shop', 'payments', [{ name: 'payments', listen: '127.0.0.1:0', upstream: echo.address }], { token: 'payments-token' });
    closers.push(payments.close);
    listed.push(payments);
    // The container's own API refuses a caller without its token.
    expect((await fetch(`${payments.api.url}/proxies`)).status).toBe(403);
    await startPlane({ cacheMs: 0 });

    const proxy = await client.get('payments');
    await proxy.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 10, jitter: 0 } });
    expect(payments.registry.get('payments').toxics.list().map((toxic) => toxic.name)).toEqual(['lat']);
    expect(Object.keys(await client.getAll()).sort()).toEqual(['inventory', 'orders-80', 'orders-9000', 'payments']);
    expect((await call('POST', '/reset')).status).toBe(204);
    expect(payments.registry.get('payments').toxics.list()).toEqual([]);
    // Discovery ran on every request (no cache), the environment was read once per container.
    expect(driver.calls).toBeGreaterThan(3);
    expect(driver.envCalls).toBe(3);
  });

  test('a wrong token is the container’s 403, relayed', async () => {
    const payments = await startFakeContainer('shop', 'payments', [{ name: 'payments', listen: '127.0.0.1:0', upstream: echo.address }], { token: 'payments-token' });
    closers.push(payments.close);
    listed.push({ ...payments, token: 'stale-token' });
    await startPlane();
    expect(await call('GET', '/proxies/payments/toxics')).toMatchObject({ status: 403, json: { error: 'missing or wrong mesh token' } });
  });
});

describe('reset of one project', () => {
  test('POST /reset?project=P resets that project’s containers only; POST /reset, all of them', async () => {
    const blog = await startFakeContainer('blog', 'inventory', [{ name: 'inventory', listen: '127.0.0.1:0', upstream: echo.address }]);
    closers.push(blog.close);
    listed.push(blog);
    await startPlane();
    const toxic = { type: 'latency', attributes: { latency: 10 } };
    for (const name of ['shop.inventory', 'blog.inventory', 'orders-9000']) expect((await call('POST', `/proxies/${name}/toxics`, toxic)).status).toBe(200);
    await call('PATCH', '/proxies/blog.inventory', { enabled: false });
    const names = (container: FakeContainer) => container.registry.list().flatMap((proxy) => proxy.toxics.list().map((t) => `${proxy.name}/${t.name}`));

    expect((await call('POST', '/reset?project=shop')).status).toBe(204);
    expect([...names(inventory), ...names(orders)]).toEqual([]);
    expect(names(blog)).toEqual(['inventory/latency_downstream']);
    expect(blog.registry.get('inventory').enabled).toBe(false);
    expect((await call('POST', '/reset?project=nowhere')).status).toBe(204);
    expect(names(blog)).toEqual(['inventory/latency_downstream']);
    expect((await call('POST', '/reset?project=')).status).toBe(400);

    expect((await call('POST', '/reset')).status).toBe(204);
    expect(names(blog)).toEqual([]);
    expect(blog.registry.get('inventory').enabled).toBe(true);
  });
});
