/** One mesh proxy process for several services (proxy-config.ts, proxy-main.ts): config rules, a shared HTTP port, TCP beside it, late upstreams. */
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { LookupAll } from '../../../src/mesh/caller-resolver.js';
import type { MeshTelemetry, RequestRecord } from '../../../src/mesh/http/telemetry/recorder.js';
import { parseMeshProxyConfig, runMeshProxy, type RunningMeshProxy } from '../../../src/mesh/proxy-main.js';
import { closeHttp, request, startUpstream } from './http-helpers.js';
import { closeAll, connect, delay, outcome, roundTrip, startEchoServer } from './net-helpers.js';

let running: RunningMeshProxy | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
  await closeAll();
  await closeHttp();
});

const http = (port: number, upstream: string) => ({ port, kind: 'http' as const, upstreams: [upstream] });

/** A port free now (a shared port needs a fixed number: port 0 is never shared). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A DNS whose answers the test sets; unknown names fail as ENOTFOUND does. */
function fakeDns(answers: Record<string, string[]>): { lookup: LookupAll; answers: Record<string, string[]> } {
  const lookup: LookupAll = (host) => {
    const found = answers[host];
    return found ? Promise.resolve(found.map((address) => ({ address }))) : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  };
  return { lookup, answers };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, Record<string, unknown>> }> {
  const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, Record<string, unknown>>) : {} };
}

describe('the config', () => {
  test('the one-service shorthand still parses, as one entry of services', () => {
    const config = parseMeshProxyConfig({ service: 'orders', listeners: [http(8080, 'orders-upstream:8080')], tracesPerSecond: 5 });
    expect(config.services).toEqual([
      { service: 'orders', version: 'unknown', names: ['orders'], tracesPerSecond: 5, listeners: [{ ...http(8080, 'orders-upstream:8080'), name: 'orders-8080' }] },
    ]);
    expect(config).not.toHaveProperty('service');
  });

  test('services take names (normalised), versions and their own rates', () => {
    const config = parseMeshProxyConfig({
      services: [
        { service: 'orders', version: '1.0.0', names: ['orders', 'Orders-Alias.'], tracesPerSecond: 100, listeners: [{ ...http(8080, 'orders-upstream:8080'), name: 'orders' }] },
        { service: 'inventory', listeners: [http(8080, 'inventory-upstream:8080')] },
        { service: 'db', listeners: [{ port: 5432, kind: 'tcp', upstreams: ['db-upstream:5432'] }] },
      ],
    });
    expect(config.services.map((service) => [service.service, service.version, service.names, service.listeners.map((listener) => listener.name)])).toEqual([
      ['orders', '1.0.0', ['orders', 'orders-alias'], ['orders']],
      ['inventory', 'unknown', ['inventory'], ['inventory-8080']],
      ['db', 'unknown', ['db'], ['db-5432']],
    ]);
  });

  test('errors name the field and, for a port clash, both services and the port', () => {
    const bad = (input: unknown) => () => parseMeshProxyConfig(input);
    expect(bad({ services: [{ service: 'a', listeners: [{ port: 1, kind: 'tcp', upstreams: ['nope'] }] }] })).toThrow(/invalid mesh proxy config: services\[0\]\.listeners\[0\]\.upstreams\[0\]/);
    expect(bad({ services: [{ service: 'a', listeners: [http(1, 'a:1')] }, { service: 'b', listeners: [{ ...http(1, 'b:1'), resilience: {} , kind: 'tcp' }] }] })).toThrow(/services\[1\]\.listeners\[0\].*http listeners only/);
    expect(bad({ services: [{ service: 'a', listeners: [http(5432, 'a:1')] }, { service: 'b', listeners: [{ port: 5432, kind: 'tcp', upstreams: ['b:1'] }] }] })).toThrow(/port 5432: http listener of "a" and tcp listener of "b" clash/);
    expect(bad({ services: [{ service: 'a', listeners: [{ port: 7, kind: 'tcp', upstreams: ['a:1'] }] }, { service: 'b', listeners: [{ port: 7, kind: 'tcp', upstreams: ['b:1'] }] }] })).toThrow(/port 7: tcp listener of "a" and tcp listener of "b" clash/);
    expect(bad({ services: [{ service: 'a', listeners: [http(80, 'a:1'), { ...http(80, 'a:2'), name: 'other' }] }] })).toThrow(/port 80: .*"a" and .*"a" clash; a service listens once per port/);
    expect(bad({ services: [{ service: 'a', names: ['x'], listeners: [http(80, 'a:1')] }, { service: 'b', names: ['X.'], listeners: [http(80, 'b:1')] }] })).toThrow(/"a" and "b" both answer to the name "x"/);
    expect(bad({ services: [{ service: 'a', listeners: [http(80, 'a:1')] }], service: 'b' })).toThrow(/either services or the one-service shorthand/);
    expect(bad({ listeners: [http(80, 'a:1')] })).toThrow(/services: required/);
    expect(bad({ services: [] })).toThrow(/services/);
  });
});

describe('one process, several services', () => {
  test('two HTTP services share a port (routed by Host), a TCP service listens beside them; the API lists each with its service', async () => {
    const port = await freePort();
    const orders = await startUpstream((incoming, response) => response.end(`orders ${incoming.url ?? ''}`));
    const inventory = await startUpstream((incoming, response) => response.end(`inventory ${incoming.url ?? ''}`));
    const echo = await startEchoServer();
    const records: Record<string, RequestRecord[]> = {};
    const telemetryFor = ({ service }: { service: string }): MeshTelemetry => {
      const kept: RequestRecord[] = (records[service] = []);
      return { sample: () => true, record: (record) => void kept.push(record), stats: () => undefined, close: () => Promise.resolve() };
    };
    running = await runMeshProxy(
      {
        host: '127.0.0.1',
        services: [
          { service: 'orders', version: '1.0.0', names: ['orders', 'orders-alias'], listeners: [{ ...http(port, orders.address), name: 'orders' }] },
          { service: 'inventory', listeners: [{ ...http(port, inventory.address), name: 'inventory' }] },
          { service: 'db', listeners: [{ port: 0, kind: 'tcp', upstreams: [echo.address], name: 'db' }] },
        ],
        api: { host: '127.0.0.1', port: 0 },
      },
      { telemetryFor },
    );
    const listen = `127.0.0.1:${port}`;
    expect((await request(listen, { path: '/a', headers: { host: `ORDERS-alias.:${port}` } })).body.toString()).toBe('orders /a');
    expect((await request(listen, { path: '/b', headers: { host: 'inventory' } })).body.toString()).toBe('inventory /b');
    expect((await request(listen, { headers: { host: 'db' } })).status).toBe(421);
    expect(records['orders']?.map((record) => record.route)).toEqual(['/a']);
    expect(records['inventory']?.map((record) => record.route)).toEqual(['/b']);

    const db = running.proxies[2]?.listen ?? '';
    await roundTrip(await connect(db), Buffer.from('ping'));

    const listed = (await call(running.api.url, 'GET', '/proxies')).json;
    expect(Object.keys(listed)).toEqual(['orders', 'inventory', 'db']);
    expect(listed['orders']).toMatchObject({ listen, service: 'orders', kind: 'http' });
    expect(listed['inventory']).toMatchObject({ listen, service: 'inventory' });
    expect(listed['db']).toMatchObject({ listen: db, service: 'db' });
    expect(listed['db']).not.toHaveProperty('kind');

    // Through the API: a fault on one service leaves the other alone; disabling one leaves the other up.
    expect((await call(running.api.url, 'POST', '/proxies/orders/toxics', { type: 'http_abort', stream: 'upstream', attributes: { status: 418 } })).status).toBe(200);
    expect((await request(listen, { headers: { host: 'orders' } })).status).toBe(418);
    expect((await request(listen, { headers: { host: 'inventory' } })).status).toBe(200);
    expect((await call(running.api.url, 'POST', '/proxies/inventory', { enabled: false })).json).toMatchObject({ enabled: false, listen });
    await expect(request(listen, { headers: { host: 'inventory' } })).rejects.toThrow();
    expect((await request(listen, { headers: { host: 'orders' } })).status).toBe(418);
    expect((await call(running.api.url, 'POST', '/reset')).status).toBe(204);
    expect((await request(listen, { headers: { host: 'inventory' } })).body.toString()).toBe('inventory /');
    expect((await request(listen, { headers: { host: 'orders' } })).body.toString()).toBe('orders /');
  });

  test('starts before any upstream resolves; HTTP answers 503 and TCP closes until then, and a name that starts resolving is used at once', async () => {
    const upstream = await startUpstream((_incoming, response) => response.end('late'));
    const echo = await startEchoServer();
    const dns = fakeDns({});
    running = await runMeshProxy(
      {
        host: '127.0.0.1',
        services: [
          { service: 'api', listeners: [{ ...http(0, `api-upstream:${upstream.port}`), name: 'api' }] },
          { service: 'db', listeners: [{ port: 0, kind: 'tcp', upstreams: [`db-upstream:${echo.port}`], name: 'db' }] },
        ],
        api: { host: '127.0.0.1', port: 0 },
        // Far longer than the test: only the on-demand lookup can find the new names.
        upstreamRefreshMs: 3_600_000,
      },
      { lookup: dns.lookup },
    );
    const [api, db] = running.proxies.map((proxy) => proxy.listen);
    const early = await request(api ?? '', { path: '/x' });
    expect(early.status).toBe(503);
    expect(early.headers.connection).toBe('close');
    expect(early.body.toString()).toMatch(/no replica of "api" yet: its upstream api-upstream:\d+ does not resolve/);
    const refused = await outcome(await connect(db ?? ''));
    expect(refused.data.length).toBe(0);

    dns.answers['api-upstream'] = ['127.0.0.1'];
    dns.answers['db-upstream'] = ['127.0.0.1'];
    // Within the short negative cache (a fraction of a second), not the hour-long refresh.
    let reply = await request(api ?? '');
    for (let i = 0; reply.status === 503 && i < 50; i++) {
      await delay(50);
      reply = await request(api ?? '');
    }
    expect(reply.body.toString()).toBe('late');
    await roundTrip(await connect(db ?? ''), Buffer.from('ping'));
  });
});
