/** An HTTP proxy takes message toxics only: connection toxics (which it would never apply) are refused with a 400 that says where they apply. */
import { afterEach, expect, test } from 'vitest';
import { ProxyRegistry, startHttpProxy, startToxiproxyApi, type HttpProxy, type StartedToxiproxyApi } from '../../../src/mesh/index.js';
import { closeHttp, request, startOkUpstream } from './http-helpers.js';
import { closeAll, startEchoServer } from './net-helpers.js';

let registry: ProxyRegistry | undefined;
let api: StartedToxiproxyApi | undefined;
let proxy: HttpProxy | undefined;

afterEach(async () => {
  await api?.close();
  await registry?.close();
  await proxy?.close();
  api = undefined;
  registry = undefined;
  proxy = undefined;
  await closeHttp();
  await closeAll();
});

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const CONNECTION_TOXICS = ['latency', 'bandwidth', 'slicer', 'reset_peer', 'timeout', 'limit_data'];

test('the API answers 400 to every connection toxic on an HTTP proxy, naming them and the tcp listeners; message toxics still go in', async () => {
  const upstream = await startOkUpstream();
  const echo = await startEchoServer();
  registry = new ProxyRegistry();
  api = await startToxiproxyApi({ registry, port: 0 });
  const created = await post(`${api.url}/proxies`, { name: 'web', upstream: upstream.address, kind: 'http' });
  expect(created.status).toBe(201);
  for (const type of CONNECTION_TOXICS) {
    const refused = await post(`${api.url}/proxies/web/toxics`, { type, attributes: type === 'slicer' ? { average_size: 10 } : {} });
    expect(refused.status).toBe(400);
    expect(refused.json.status).toBe(400);
    expect(refused.json.error).toContain(`${type} is a connection toxic`);
    expect(refused.json.error).toContain('apply to tcp listeners');
    expect(refused.json.error).toContain(CONNECTION_TOXICS.join(', '));
  }
  expect(registry.get('web').toxics.list()).toEqual([]);
  expect((await post(`${api.url}/proxies/web/toxics`, { type: 'http_abort', stream: 'upstream', attributes: { status: 418 } })).status).toBe(200);
  expect((await request(created.json.listen as string)).status).toBe(418);
  // TCP proxies keep taking connection toxics and refusing message ones.
  expect((await post(`${api.url}/proxies`, { name: 'db', upstream: echo.address })).status).toBe(201);
  expect((await post(`${api.url}/proxies/db/toxics`, { type: 'latency', attributes: { latency: 1 } })).status).toBe(200);
  expect((await post(`${api.url}/proxies/db/toxics`, { type: 'http_delay' })).status).toBe(400);
});

test('a proxy made directly (no registry) refuses connection toxics too', async () => {
  const upstream = await startOkUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  expect(() => proxy?.toxics.add({ type: 'latency', attributes: { latency: 100 } })).toThrow(/latency is a connection toxic.*tcp listeners/);
  expect(proxy.toxics.list()).toEqual([]);
  expect(proxy.toxics.add({ type: 'http_delay', attributes: { delay_ms: 1 } }).type).toBe('http_delay');
});
