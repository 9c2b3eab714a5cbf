/**
 * An upstream name stands for every address it resolves to: the proxy balances and ejects per
 * address, keeps the state of addresses that stay on a refresh and drops those that go. A fake
 * resolver stands in for DNS; the replicas are real servers on 127.0.0.1 and 127.0.0.2, same port.
 */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { resilienceSchema, runMeshProxy, startHttpProxy, type HttpProxy, type RunningMeshProxy } from '../../../src/mesh/index.js';
import { resolveResilience } from '../../../src/mesh/http/resilience.js';
import { request } from './http-helpers.js';

let proxy: HttpProxy | undefined;
let running: RunningMeshProxy | undefined;
const servers: Server[] = [];

afterEach(async () => {
  await proxy?.close();
  await running?.close();
  proxy = undefined;
  running = undefined;
  await Promise.all(servers.splice(0).map((server) => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }));
});

/** An HTTP server on `host:port` answering `status` with its own host as the body. */
async function replica(host: string, port: number, status: () => number): Promise<{ port: number; hits: number }> {
  const state = { port, hits: 0 };
  const server = http.createServer((_request, response) => {
    state.hits++;
    response.writeHead(status());
    response.end(host);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ host, port }, resolve));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** A resolver whose answers the test sets, counting its calls. */
function fakeLookup(answers: Record<string, string[]>) {
  const calls: string[] = [];
  const lookup = (host: string): Promise<{ address: string }[]> => {
    calls.push(host);
    const found = answers[host];
    return found ? Promise.resolve(found.map((address) => ({ address }))) : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  };
  return { lookup, calls, answers };
}

test('one name, two addresses: requests alternate, the failing address is ejected, a refresh keeps or drops state per address', async () => {
  const sick = await replica('127.0.0.1', 0, () => 503);
  const good = await replica('127.0.0.2', sick.port, () => 200);
  expect(good.port).toBe(sick.port);
  const dns = fakeLookup({ 'api-upstream': ['127.0.0.1', '127.0.0.2'] });
  proxy = await startHttpProxy({
    name: 'api', listen: '127.0.0.1:0', upstream: `api-upstream:${sick.port}`, lookup: dns.lookup, upstreamRefreshMs: 3_600_000,
    resilience: resolveResilience(resilienceSchema.parse({ ejection: { consecutive_failures: 2, cool_off_ms: 3_600_000 } })),
  });
  expect(proxy.upstream).toBe(`api-upstream:${sick.port}`);
  expect(proxy.stats().replicas.map((r) => r.address)).toEqual([`127.0.0.1:${sick.port}`, `127.0.0.2:${sick.port}`]);
  const bodies: string[] = [];
  for (let i = 0; i < 8; i++) bodies.push((await request(proxy.listen)).body.toString());
  // sick, good, sick (ejected), then good only.
  expect(bodies).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.1', '127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.2']);
  expect(sick.hits).toBe(2);
  expect(proxy.stats().replicas).toMatchObject([{ address: `127.0.0.1:${sick.port}`, ejected: true, ejections: 1 }, { address: `127.0.0.2:${sick.port}`, ejected: false }]);

  // A third address appears: the ejected one stays ejected (its state is kept), the new one is used.
  const third = await replica('127.0.0.3', sick.port, () => 200);
  dns.answers['api-upstream'] = ['127.0.0.2', '127.0.0.1', '127.0.0.3'];
  await proxy.refreshUpstreams();
  expect(proxy.stats().replicas).toMatchObject([{ address: `127.0.0.2:${sick.port}` }, { address: `127.0.0.1:${sick.port}`, ejected: true, ejections: 1 }, { address: `127.0.0.3:${sick.port}`, ejections: 0 }]);
  for (let i = 0; i < 4; i++) expect((await request(proxy.listen)).status).toBe(200);
  expect(sick.hits).toBe(2);
  expect(third.hits).toBe(2);

  // The sick address goes, then comes back: it starts afresh.
  dns.answers['api-upstream'] = ['127.0.0.2'];
  await proxy.refreshUpstreams();
  expect(proxy.stats().replicas.map((r) => r.address)).toEqual([`127.0.0.2:${sick.port}`]);
  dns.answers['api-upstream'] = ['127.0.0.1', '127.0.0.2'];
  await proxy.refreshUpstreams();
  expect(proxy.stats().replicas).toMatchObject([{ address: `127.0.0.1:${sick.port}`, ejected: false, ejections: 0, consecutiveFailures: 0 }, { address: `127.0.0.2:${sick.port}` }]);

  // A failed lookup keeps the last addresses.
  delete dns.answers['api-upstream'];
  await proxy.refreshUpstreams();
  expect(proxy.stats().replicas).toHaveLength(2);
});

test('literal IPs are used as they are, never looked up', async () => {
  const one = await replica('127.0.0.1', 0, () => 200);
  const dns = fakeLookup({});
  proxy = await startHttpProxy({ name: 'api', listen: '127.0.0.1:0', upstream: `127.0.0.1:${one.port}`, lookup: dns.lookup });
  await proxy.refreshUpstreams();
  expect((await request(proxy.listen)).status).toBe(200);
  expect(dns.calls).toEqual([]);
  expect(proxy.stats().replicas.map((r) => r.address)).toEqual([`127.0.0.1:${one.port}`]);
});

test('runMeshProxy resolves a listener\'s upstream alias with its lookup', async () => {
  const a = await replica('127.0.0.1', 0, () => 200);
  const b = await replica('127.0.0.2', a.port, () => 200);
  const dns = fakeLookup({ 'api-upstream': ['127.0.0.1', '127.0.0.2'] });
  running = await runMeshProxy(
    { service: 'api', host: '127.0.0.1', listeners: [{ port: 0, kind: 'http', upstreams: [`api-upstream:${a.port}`], name: 'api' }], api: { port: 0 } },
    { lookup: dns.lookup },
  );
  const listen = running.proxies[0]?.listen ?? '';
  for (let i = 0; i < 4; i++) expect((await request(listen)).status).toBe(200);
  expect([a.hits, b.hits]).toEqual([2, 2]);
});
