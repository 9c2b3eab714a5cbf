/**
 * Stand-ins for what an experiment talks to, on real sockets (127.0.0.1, port 0): a Toxiproxy-like
 * mesh API that records its calls, a service whose answers a fault flag changes (the fake mesh
 * sets it when an http_abort toxic is added to that service's proxy), and a collector query API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findCollector } from '../../../src/cli/collector-client.js';
import type { CollectorApi } from '../../../src/chaos/index.js';
import { Label } from '../../../src/runtime/labels.js';
import { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';
import { writeServeState } from '../../../src/server/state-file.js';
import { service } from '../../support/stack-factory.js';

/** A started HTTP server and its base URL. */
export interface Running {
  url: string;
  close(): Promise<void>;
}

async function listen(handler: (request: IncomingMessage, response: ServerResponse, body: string) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => handler(request, response, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** The service under test: answers 200 `{"ok":true}`, or the status a fault set; can hang; counts requests. */
export interface FakeService extends Running {
  /** Status forced by a fault; undefined: healthy. */
  faultStatus: number | undefined;
  requests: number;
  /** Concurrent requests at most, seen so far. */
  peakInFlight: number;
  /** Milliseconds each answer waits. */
  delayMs: number;
}

export async function startService(): Promise<FakeService> {
  let inFlight = 0;
  const state = { faultStatus: undefined as number | undefined, requests: 0, peakInFlight: 0, delayMs: 0 };
  const { server, url } = await listen((_request, response) => {
    state.requests++;
    inFlight++;
    state.peakInFlight = Math.max(state.peakInFlight, inFlight);
    const answer = () => {
      inFlight--;
      const status = state.faultStatus ?? 200;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status === 200 ? { ok: true, stock: { apples: 3 } } : { ok: false }));
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  return Object.assign(state, { url, close: closer(server) });
}

/** A Toxiproxy-compatible API that records calls and keeps toxics per proxy. */
export interface FakeMesh extends Running {
  calls: string[];
  /** Toxic names per proxy, now. */
  toxics: Map<string, Map<string, { type: string; stream: string; toxicity: number; attributes: Record<string, unknown> }>>;
  /** When set, adding a toxic answers this status (after recording the call). */
  refuseAdd: number | undefined;
}

export async function startMesh(proxies: string[], services: Record<string, FakeService> = {}): Promise<FakeMesh> {
  const toxics = new Map(proxies.map((name) => [name, new Map()] as const)) as FakeMesh['toxics'];
  const state = { calls: [] as string[], toxics, refuseAdd: undefined as number | undefined };
  const json = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const { server, url } = await listen((request, response, body) => {
    const route = `${request.method ?? ''} ${request.url ?? ''}`;
    state.calls.push(route);
    if (request.method === 'GET' && request.url === '/proxies') {
      return json(response, 200, Object.fromEntries([...toxics].map(([name, held]) => [name, { name, listen: '0.0.0.0:80', upstream: `${name}-upstream:80`, enabled: true, kind: 'http', toxics: [...held.values()] }])));
    }
    const match = /^\/proxies\/([^/]+)(?:\/toxics(?:\/([^/]+))?)?$/.exec(request.url ?? '');
    const proxy = match?.[1] === undefined ? undefined : toxics.get(decodeURIComponent(match[1]));
    if (!match || !proxy) return json(response, 404, { error: 'proxy not found', status: 404 });
    const service = services[decodeURIComponent(match[1] ?? '')];
    if (request.method === 'GET' && match[2] === undefined && !request.url?.includes('/toxics')) return json(response, 200, { name: match[1], toxics: [...proxy.keys()] });
    if (request.method === 'POST' && request.url?.endsWith('/toxics')) {
      if (state.refuseAdd !== undefined) return json(response, state.refuseAdd, { error: 'refused by the test', status: state.refuseAdd });
      const toxic = JSON.parse(body) as { name: string; type: string; stream: string; toxicity: number; attributes: Record<string, unknown> };
      if (proxy.has(toxic.name)) return json(response, 409, { error: 'toxic already exists', status: 409 });
      proxy.set(toxic.name, toxic);
      if (service && toxic.type === 'http_abort') service.faultStatus = Number(toxic.attributes['status']);
      return json(response, 200, toxic);
    }
    if (request.method === 'DELETE' && match[2] !== undefined) {
      const name = decodeURIComponent(match[2]);
      const toxic = proxy.get(name);
      if (!toxic) return json(response, 404, { error: 'toxic not found', status: 404 });
      proxy.delete(name);
      if (service && toxic.type === 'http_abort') service.faultStatus = undefined;
      response.writeHead(204);
      return response.end();
    }
    return json(response, 405, { error: 'not here', status: 405 });
  });
  return Object.assign(state, { url, close: closer(server) });
}

/** The collector's query API with a token, found the way the CLI finds it (serve.json). */
export interface FakeCollector extends Running {
  /** What /api/map answers. */
  map: unknown;
  /** Query strings asked. */
  queries: URLSearchParams[];
  client: CollectorApi;
}

export async function startCollector(map: unknown): Promise<FakeCollector> {
  const token = 'fake-token-0123456789abcdef';
  const state = { map, queries: [] as URLSearchParams[] };
  const { server, url } = await listen((request, response) => {
    const parsed = new URL(request.url ?? '/', 'http://x');
    if (request.headers.authorization !== `Bearer ${token}`) {
      response.writeHead(401, { 'content-type': 'application/json' });
      return response.end(JSON.stringify({ error: 'UNAUTHORIZED', message: 'a token is required' }));
    }
    state.queries.push(parsed.searchParams);
    response.writeHead(parsed.pathname === '/api/map' ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(parsed.pathname === '/api/map' ? state.map : { error: 'NOT_FOUND', message: 'no route' }));
  });
  const stateDir = mkdtempSync(path.join(tmpdir(), 'flotilla-chaos-'));
  writeServeState(stateDir, { pid: process.pid, url, token, listening: [url], dataDir: stateDir, startedAt: new Date().toISOString() });
  const client = findCollector({ FLOTILLA_STATE_DIR: stateDir });
  if (!client) throw new Error('the fake collector was not found through its state file');
  const close = closer(server);
  return Object.assign(state, {
    url,
    client,
    close: async () => {
      await close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  });
}

/** A fake driver with running containers of project `shop`: `replicas` per service, on network shop_default with the service's alias. */
export async function runningProject(replicas: Record<string, number>): Promise<FakeDriver> {
  const driver = new FakeDriver();
  for (const [name, count] of Object.entries(replicas)) {
    for (let replica = 1; replica <= count; replica++) {
      const id = await driver.createContainer({
        name: `shop-${name}-${replica}`,
        image: `sha256:${name}`,
        service: service(name),
        replica,
        labels: { [Label.project]: 'shop', [Label.service]: name, [Label.replica]: String(replica) },
        networks: [{ name: 'shop_default', aliases: [name] }],
        volumeNames: {},
        files: [],
      });
      await driver.startContainer(id);
    }
  }
  driver.calls.length = 0;
  return driver;
}
