/** The Toxiproxy-compatible API, driven by the published Toxiproxy JS client and by raw HTTP for exact shapes. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { ProxyRegistry, startToxiproxyApi, TcpProxy, TOXIPROXY_API_VERSION, type StartedToxiproxyApi } from '../../../src/mesh/index.js';
import { closeAll, connect, eventually, outcome, readBytes, roundTrip, startEchoServer, startServer, staysSilent, type TestServer } from './net-helpers.js';

let registry: ProxyRegistry;
let api: StartedToxiproxyApi;
let client: Toxiproxy;
let echo: TestServer;

beforeEach(async () => {
  registry = new ProxyRegistry();
  api = await startToxiproxyApi({ registry, port: 0 });
  client = new Toxiproxy(api.url);
  echo = await startEchoServer();
});

afterEach(async () => {
  await api.close();
  await registry.close();
  await closeAll();
});

/** A raw request, for status codes and bodies the client does not expose. */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${api.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('with the published client', () => {
  test('creates a proxy that carries traffic, and refuses a second one of the same name', async () => {
    const proxy = await client.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: echo.address });
    expect(proxy.enabled).toBe(true);
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(proxy.listen).not.toBe('127.0.0.1:0');
    const socket = await connect(proxy.listen);
    expect(await roundTrip(socket, Buffer.from('hello'))).toBeGreaterThanOrEqual(0);
    await expect(client.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: echo.address })).rejects.toThrow(/409/);
    expect(Object.keys(await client.getAll())).toEqual(['echo']);
    expect((await client.get('echo')).upstream).toBe(echo.address);
  });

  test('adds, reads, updates and removes a toxic that really delays traffic', async () => {
    const proxy = await client.createProxy({ name: 'slow', listen: '127.0.0.1:0', upstream: echo.address });
    const toxic = await proxy.addToxic({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    expect(toxic.toJson()).toEqual({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    const socket = await connect(proxy.listen);
    expect(await roundTrip(socket, Buffer.from('x'))).toBeGreaterThanOrEqual(95);

    const updated = await toxic.update({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 250, jitter: 0 } });
    expect(updated.attributes).toEqual({ latency: 250, jitter: 0 });
    expect((await proxy.getToxic('lat')).attributes).toEqual({ latency: 250, jitter: 0 });
    expect(await roundTrip(socket, Buffer.from('y'))).toBeGreaterThanOrEqual(245);

    // Removed, it delays nothing: with a latency no test waits out (10 min) in place, only the removal lets data
    // through (a held chunk at once, and what comes after); a toxic left behind would hang until readBytes gives up.
    await toxic.update({ name: 'lat', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 600_000, jitter: 0 } });
    const held = readBytes(socket, 1, 15_000);
    socket.write('w');
    expect(await staysSilent(socket, 300)).toBe(true);
    await toxic.remove();
    await expect(proxy.getToxic('lat')).rejects.toThrow(/404/);
    expect((await held).toString()).toBe('w');
    const after = readBytes(socket, 1, 15_000);
    socket.write('z');
    expect((await after).toString()).toBe('z');
  }, 40_000);

  test('disables and re-enables a proxy with update', async () => {
    const proxy = await client.createProxy({ name: 'flaky', listen: '127.0.0.1:0', upstream: echo.address });
    const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(down.enabled).toBe(false);
    await expect(connect(proxy.listen)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const up = await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(up.enabled).toBe(true);
    expect(up.listen).toBe(proxy.listen);
    await roundTrip(await connect(up.listen), Buffer.from('back'));
  });

  test('populates: creates, keeps an identical proxy with its toxics, replaces a changed one', async () => {
    const other = await startServer((socket) => socket.end('other'));
    const first = await client.populate([
      { name: 'a', listen: '127.0.0.1:0', upstream: echo.address },
      { name: 'b', listen: '127.0.0.1:0', upstream: echo.address },
    ]);
    expect(Object.keys(first)).toEqual(['a', 'b']);
    const a = first.a;
    const b = first.b;
    if (!a || !b) throw new Error('populate returned no proxies');
    await a.addToxic({ name: 'keep', type: 'latency', stream: 'upstream', toxicity: 1, attributes: { latency: 1, jitter: 0 } });
    const second = await client.populate([
      { name: 'a', listen: a.listen, upstream: a.upstream },
      { name: 'b', listen: b.listen, upstream: other.address },
    ]);
    expect(second.a?.listen).toBe(a.listen);
    expect((await client.get('a')).toJson()).toMatchObject({ name: 'a', enabled: true });
    expect((await call('GET', '/proxies/a/toxics')).json).toHaveLength(1);
    expect(second.b?.upstream).toBe(other.address);
    expect((await outcome(await connect(second.b?.listen ?? ''))).data.toString()).toBe('other');
  });

  test('reset enables every proxy and removes every toxic; version answers', async () => {
    const proxy = await client.createProxy({ name: 'r', listen: '127.0.0.1:0', upstream: echo.address });
    await proxy.addToxic({ name: 't', type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } });
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    await client.reset();
    const after = await client.get('r');
    expect(after.enabled).toBe(true);
    expect((await call('GET', '/proxies/r')).json).toMatchObject({ toxics: [] });
    await roundTrip(await connect(after.listen), Buffer.from('ok'));
    expect(JSON.parse(await client.getVersion())).toMatchObject({ version: TOXIPROXY_API_VERSION });
  });

  test('removes a proxy', async () => {
    const proxy = await client.createProxy({ name: 'gone', listen: '127.0.0.1:0', upstream: echo.address });
    await proxy.remove();
    await expect(client.get('gone')).rejects.toThrow(/404/);
    await expect(connect(proxy.listen)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe("Toxiproxy's status codes and JSON", () => {
  test('create is 201 with the proxy and its toxics; a toxic create is 200, as Toxiproxy answers', async () => {
    const created = await call('POST', '/proxies', { name: 'p', listen: '127.0.0.1:0', upstream: echo.address });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'p', upstream: echo.address, enabled: true, toxics: [] });
    const toxic = await call('POST', '/proxies/p/toxics', { type: 'latency', attributes: { latency: 5 } });
    expect(toxic.status).toBe(200);
    expect(toxic.json).toEqual({ name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 5, jitter: 0 } });
    const listed = await call('GET', '/proxies');
    expect(listed.json).toMatchObject({ p: { name: 'p', toxics: [{ name: 'latency_downstream' }] } });
    const patched = await call('PATCH', '/proxies/p/toxics/latency_downstream', { toxicity: 0.5 });
    expect(patched.json).toMatchObject({ toxicity: 0.5, attributes: { latency: 5 } });
    expect((await call('DELETE', '/proxies/p/toxics/latency_downstream')).status).toBe(204);
    expect((await call('PATCH', '/proxies/p', { enabled: false })).json).toMatchObject({ enabled: false });
    expect((await call('DELETE', '/proxies/p')).status).toBe(204);
    expect((await call('POST', '/populate', [])).json).toEqual({ proxies: [] });
  });

  test.each([
    ['unknown proxy', 'GET', '/proxies/nope', undefined, 404, 'proxy not found'],
    ['unknown toxic', 'GET', '/proxies/p/toxics/nope', undefined, 404, 'toxic not found'],
    ['duplicate proxy', 'POST', '/proxies', { name: 'p', upstream: '127.0.0.1:1' }, 409, 'proxy already exists'],
    ['duplicate toxic', 'POST', '/proxies/p/toxics', { name: 'existing', type: 'latency' }, 409, 'toxic already exists'],
    ['missing name', 'POST', '/proxies', { upstream: '127.0.0.1:1' }, 400, 'missing required field: name'],
    ['missing upstream', 'POST', '/proxies', { name: 'q' }, 400, 'missing required field: upstream'],
    ['bad stream', 'POST', '/proxies/p/toxics', { type: 'latency', stream: 'sideways' }, 400, 'stream was invalid, can be either upstream or downstream'],
    ['bad type', 'POST', '/proxies/p/toxics', { type: 'gremlin' }, 400, 'invalid toxic type'],
    ['unknown attribute', 'POST', '/proxies/p/toxics', { type: 'latency', attributes: { latancy: 5 } }, 400, /^bad request body: latency attributes: Unrecognized key/],
    ['negative attribute', 'POST', '/proxies/p/toxics', { type: 'bandwidth', attributes: { rate: -1 } }, 400, /^bad request body: bandwidth attributes\.rate/],
    ['toxicity above 1', 'POST', '/proxies/p/toxics', { type: 'latency', toxicity: 2 }, 400, /^bad request body: toxicity/],
    ['slicer variation', 'POST', '/proxies/p/toxics', { type: 'slicer', attributes: { average_size: 10, size_variation: 10 } }, 400, /size_variation must be smaller/],
    ['wrong field type', 'POST', '/proxies', { name: 'q', upstream: 5 }, 400, /^bad request body: upstream/],
    ['broken JSON', 'POST', '/proxies', '{"name": ', 400, /^bad request body: /],
    ['empty body', 'POST', '/proxies/p/toxics', '', 400, /^bad request body: empty body/],
    ['bad listen', 'POST', '/proxies', { name: 'q', listen: 'nowhere', upstream: '127.0.0.1:1' }, 400, /^bad request body: listen/],
    ['duplicate in populate', 'POST', '/populate', [{ name: 'x', upstream: '127.0.0.1:1' }, { name: 'x', upstream: '127.0.0.1:2' }], 400, /duplicate proxy name/],
  ] as const)('%s → %i', async (_label, method, path, body, status, message) => {
    await call('POST', '/proxies', { name: 'p', listen: '127.0.0.1:0', upstream: echo.address });
    await call('POST', '/proxies/p/toxics', { name: 'existing', type: 'latency' });
    const response = await call(method, path, body);
    expect(response.status).toBe(status);
    const json = response.json as { error: string; status: number };
    expect(json.status).toBe(status);
    if (typeof message === 'string') expect(json.error).toBe(message);
    else expect(json.error).toMatch(message);
  });

  test('an address already in use is a 500 naming it, and nothing is created', async () => {
    const taken = await startServer(() => undefined);
    const response = await call('POST', '/proxies', { name: 'clash', listen: taken.address, upstream: echo.address });
    expect(response.status).toBe(500);
    expect((response.json as { error: string }).error).toContain(taken.address);
    expect((await call('GET', '/proxies')).json).toEqual({});
  });

  test('unknown routes and methods are 404s; names are percent-decoded; a query string is not part of the route; HEAD answers as GET', async () => {
    await call('POST', '/proxies', { name: 'p q', listen: '127.0.0.1:0', upstream: echo.address });
    expect(await call('GET', '/nowhere')).toEqual({ status: 404, json: { error: 'not found', status: 404 } });
    expect((await call('PUT', '/proxies/p%20q')).status).toBe(404);
    expect((await call('GET', '/proxies/')).status).toBe(404);
    expect((await call('GET', '/proxies/p%20q?verbose=1')).json).toMatchObject({ name: 'p q' });
    expect((await call('GET', '/proxies/%E0%A4%A')).status).toBe(400);
    const head = await fetch(`${api.url}/proxies/p%20q`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  test('a body over 1 MiB is a 413, and the API goes on answering', async () => {
    const response = await call('POST', '/proxies', JSON.stringify({ name: 'big', upstream: echo.address, padding: 'x'.repeat(1024 * 1024) }));
    expect(response).toEqual({ status: 413, json: { error: 'Request body is too large', status: 413 } });
    expect((await call('GET', '/proxies')).json).toEqual({});
  });

  test('close ends the connections of requests still in flight instead of waiting for them', async () => {
    // A client that sent half of its body: its connection is busy, not idle, so only a forced close ends it.
    const socket = await connect(new URL(api.url).host);
    socket.write('POST /proxies HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":');
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await api.close();
    await ended;
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('browsers are refused (403), as Toxiproxy refuses them', async () => {
    const response = await call('GET', '/proxies', undefined, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' });
    expect(response.status).toBe(403);
  });

  test('toxic changes answer while a toxic holds connections', async () => {
    await call('POST', '/proxies', { name: 'busy', listen: '127.0.0.1:0', upstream: echo.address });
    await call('POST', '/proxies/busy/toxics', { name: 'hold', type: 'latency', attributes: { latency: 60_000 } });
    const proxy = registry.get('busy');
    if (!(proxy instanceof TcpProxy)) throw new Error('busy is not a TCP proxy');
    const sockets = await Promise.all(Array.from({ length: 10 }, () => connect(proxy.listen)));
    let delivered = 0;
    const echoes = sockets.map((socket) => readBytes(socket, 4, 15_000).then((data) => {
      delivered++;
      return data.toString();
    }));
    for (const socket of sockets) socket.write('held');
    // Every connection's echo is held by the 60 s latency.
    await eventually(() => proxy.stats().receivedDown === 40, 15_000);
    // An ordering, not a duration: the API answers a change while every chunk is still held (waiting on them,
    // it would hang for a minute and the test time out).
    expect((await call('POST', '/proxies/busy/toxics', { name: 'more', type: 'slicer', attributes: { average_size: 2 } })).status).toBe(200);
    expect(delivered).toBe(0);
    expect((await call('DELETE', '/proxies/busy/toxics/hold')).status).toBe(204);
    // The removal handed the held chunks on.
    expect(await Promise.all(echoes)).toEqual(Array.from({ length: 10 }, () => 'held'));
  }, 40_000);
});

describe('with a token (as in a proxy container)', () => {
  test('refuses requests without the token, or with a wrong one, in Toxiproxy’s error JSON; takes those with it', async () => {
    await registry.populate([{ name: 'p', listen: '127.0.0.1:0', upstream: echo.address }]);
    const guarded = await startToxiproxyApi({ registry, port: 0, token: 's3cret-token' });
    try {
      const ask = async (method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> => {
        const response = await fetch(`${guarded.url}${path}`, { method, headers });
        const text = await response.text();
        return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
      };
      registry.get('p').toxics.add({ name: 'lat', type: 'latency', attributes: { latency: 5 } });
      // Another container on the project's network calling `inventory:8474/reset` with no token.
      expect(await ask('POST', '/reset')).toMatchObject({ status: 403, json: { error: 'missing or wrong mesh token', status: 403 } });
      expect((await ask('POST', '/reset', { 'x-flotilla-mesh-token': 's3cret-tokeN' })).status).toBe(403);
      expect((await ask('POST', '/reset', { 'x-flotilla-mesh-token': 's3cret' })).status).toBe(403);
      expect((await ask('GET', '/proxies')).status).toBe(403);
      expect(registry.get('p').toxics.list().map((toxic) => toxic.name)).toEqual(['lat']);

      expect((await ask('GET', '/proxies', { 'x-flotilla-mesh-token': 's3cret-token' })).json).toMatchObject({ p: { name: 'p' } });
      expect((await ask('POST', '/reset', { 'x-flotilla-mesh-token': 's3cret-token' })).status).toBe(204);
      expect(registry.get('p').toxics.list()).toEqual([]);
      // The browser guard still comes first.
      expect((await ask('GET', '/proxies', { 'x-flotilla-mesh-token': 's3cret-token', 'user-agent': 'Mozilla/5.0' })).json).toEqual({ error: 'User agent not allowed', status: 403 });
    } finally {
      await guarded.close();
    }
    // Without a token (Toxiproxy's own behaviour), no header is needed.
    expect((await call('GET', '/proxies')).status).toBe(200);
  });
});
