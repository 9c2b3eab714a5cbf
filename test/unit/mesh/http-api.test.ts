/** HTTP proxies through the Toxiproxy-compatible API (the `kind` and `resilience` extensions) and runMeshProxy. */
import { afterEach, expect, test } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { ProxyRegistry, runMeshProxy, startToxiproxyApi, type RunningMeshProxy, type StartedToxiproxyApi } from '../../../src/mesh/index.js';
import { closeHttp, request, startOkUpstream } from './http-helpers.js';
import { closeAll, connect, eventually, roundTrip, startEchoServer } from './net-helpers.js';

let registry: ProxyRegistry | undefined;
let api: StartedToxiproxyApi | undefined;
let running: RunningMeshProxy | undefined;

afterEach(async () => {
  await api?.close();
  await registry?.close();
  await running?.close();
  api = undefined;
  registry = undefined;
  running = undefined;
  await closeHttp();
  await closeAll();
});

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

test('creates an HTTP proxy with kind and resilience; message toxics apply; the published client still works with it', async () => {
  const upstream = await startOkUpstream();
  registry = new ProxyRegistry();
  api = await startToxiproxyApi({ registry, port: 0 });
  const created = await call(api.url, 'POST', '/proxies', { name: 'inv', upstream: upstream.address, kind: 'http', resilience: { retries: { attempts: 2 } } });
  expect(created.status).toBe(201);
  expect(created.json).toMatchObject({ name: 'inv', kind: 'http', enabled: true, resilience: { retries: { attempts: 2, on_status: [502, 503, 504] }, budget: { ratio: 0.2 } } });
  const listen = created.json.listen as string;

  const client = new Toxiproxy(api.url);
  const proxy = await client.get('inv');
  expect(proxy.upstream).toBe(upstream.address);
  await proxy.addToxic({ name: 'abort', type: 'http_abort' as never, stream: 'upstream', toxicity: 1, attributes: { status: 418, path: '/teapot' } as never });
  expect((await request(listen, { path: '/teapot' })).status).toBe(418);
  expect((await request(listen, { path: '/cup' })).status).toBe(200);
  // The published client's update sends only Toxiproxy's fields: the kind and settings stay.
  const updated = await proxy.update({ enabled: true, listen, upstream: upstream.address });
  expect(updated.enabled).toBe(true);
  expect((await call(api.url, 'GET', '/proxies/inv')).json).toMatchObject({ kind: 'http', resilience: { retries: { attempts: 2 } } });
  expect((await call(api.url, 'POST', '/proxies/inv', { resilience: { retries: { attempts: 9 } } })).json).toMatchObject({ resilience: { retries: { attempts: 9 } } });
  expect((await call(api.url, 'POST', '/proxies/inv', { kind: 'tcp' })).status).toBe(400);
  await proxy.remove();
});

test('refuses bad kinds, bad resilience, resilience on TCP and message toxics on TCP proxies', async () => {
  const echo = await startEchoServer();
  registry = new ProxyRegistry();
  api = await startToxiproxyApi({ registry, port: 0 });
  expect((await call(api.url, 'POST', '/proxies', { name: 'a', upstream: echo.address, kind: 'udp' })).status).toBe(400);
  const bad = await call(api.url, 'POST', '/proxies', { name: 'a', upstream: echo.address, kind: 'http', resilience: { retries: { attempts: 0 } } });
  expect(bad.status).toBe(400);
  expect(bad.json.error).toMatch(/resilience\.retries\.attempts/);
  expect((await call(api.url, 'POST', '/proxies', { name: 'a', upstream: echo.address, resilience: {} })).status).toBe(400);
  const tcp = await call(api.url, 'POST', '/proxies', { name: 'tcp', upstream: echo.address });
  expect(tcp.json.kind).toBeUndefined();
  expect((await call(api.url, 'POST', '/proxies/tcp/toxics', { type: 'http_abort' })).status).toBe(400);
  expect((await call(api.url, 'POST', '/proxies/tcp/toxics', { type: 'latency', attributes: { latency: 1 } })).status).toBe(200);
});

test('runMeshProxy starts one service\'s HTTP and TCP listeners and its API from a validated config', async () => {
  const upstream = await startOkUpstream();
  const echo = await startEchoServer();
  await expect(runMeshProxy({ service: 'x', listeners: [] })).rejects.toThrow(/listeners/);
  await expect(runMeshProxy({ service: 'x', listeners: [{ port: 0, kind: 'tcp', upstreams: ['nope'] }] })).rejects.toThrow(/host:port/);
  running = await runMeshProxy({
    service: 'inventory',
    version: '1.0.0',
    host: '127.0.0.1',
    listeners: [
      { port: 0, kind: 'http', upstreams: [upstream.address], name: 'inventory-http', resilience: { retries: { attempts: 2 } } },
      { port: 0, kind: 'tcp', upstreams: [echo.address], name: 'inventory-db' },
    ],
    api: { host: '127.0.0.1', port: 0 },
    callers: { '127.0.0.1': 'orders' },
  });
  const [http, tcp] = running.proxies;
  expect(http?.kind).toBe('http');
  expect((await request(http?.listen ?? '', { path: '/a' })).body.toString()).toBe('ok GET /a');
  const socket = await connect(tcp?.listen ?? '');
  await roundTrip(socket, Buffer.from('ping'));
  const listed = await call(running.api.url, 'GET', '/proxies');
  expect(Object.keys(listed.json)).toEqual(['inventory-http', 'inventory-db']);
});

test('runMeshProxy samples the traces it starts at the rate its config gives; every request still counts', async () => {
  const upstream = await startOkUpstream();
  await expect(runMeshProxy({ service: 'x', listeners: [{ port: 0, kind: 'http', upstreams: [upstream.address] }], tracesPerSecond: -1 })).rejects.toThrow(/tracesPerSecond/);
  running = await runMeshProxy({
    service: 'inventory',
    host: '127.0.0.1',
    listeners: [{ port: 0, kind: 'http', upstreams: [upstream.address], name: 'inventory' }],
    api: { host: '127.0.0.1', port: 0 },
    // Nothing listens there: the telemetry is only counted, never delivered.
    collector: 'http://127.0.0.1:9',
    tracesPerSecond: 0,
  });
  for (let i = 0; i < 3; i++) expect((await request(running.proxies[0]?.listen ?? '', { path: `/items/${i}` })).status).toBe(200);
  await eventually(() => (running?.telemetry.stats()?.untraced ?? 0) === 3);
  expect(running.telemetry.stats()).toMatchObject({ traced: 0, untraced: 3 });
});

