/**
 * Fake proxy containers for the control plane's tests: each is a real Toxiproxy-compatible API
 * (createToxiproxyApp over its own ProxyRegistry) on 127.0.0.1:0, and a fake driver lists them as
 * running containers labelled `dev.flotilla.mesh=proxy` with the API published as container port 8474,
 * and gives each one's token (FLOTILLA_MESH_TOKEN) as its environment.
 */
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MESH_PROXY_LABEL } from '../../../src/mesh/control-plane-discovery.js';
import { ProxyRegistry, startToxiproxyApi, type ProxyInput, type StartedToxiproxyApi } from '../../../src/mesh/index.js';
import type { Driver, ObservedContainer, ObservedState } from '../../../src/runtime/driver.js';

/** One fake proxy container. */
export interface FakeContainer {
  project: string;
  service: string;
  id: string;
  registry: ProxyRegistry;
  api: StartedToxiproxyApi;
  port: number;
  /** The token its API requires, when it was started with one. */
  token?: string;
  close: () => Promise<void>;
}

let counter = 0;

/** Starts a container's API with `proxies` in its registry; with `token`, the API requires it. */
export async function startFakeContainer(project: string, service: string, proxies: ProxyInput[], options: { token?: string } = {}): Promise<FakeContainer> {
  const registry = new ProxyRegistry();
  await registry.populate(proxies);
  const api = await startToxiproxyApi({ registry, port: 0, ...(options.token !== undefined && { token: options.token }) });
  const port = Number(new URL(api.url).port);
  counter += 1;
  const id = `${String(counter).padStart(4, '0')}${'c'.repeat(60)}`;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await api.close();
    await registry.close();
  };
  return { project, service, id, registry, api, port, close, ...(options.token !== undefined && { token: options.token }) };
}

/** A container whose API accepts connections and never answers. */
export async function startSilentContainer(project: string, service: string): Promise<{ project: string; service: string; id: string; port: number; server: Server; close: () => Promise<void> }> {
  const server = http.createServer(() => {
    // Never answers: a paused or wedged proxy.
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  counter += 1;
  return {
    project,
    service,
    id: `${String(counter).padStart(4, '0')}${'s'.repeat(60)}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the fake driver lists: anything with a project, service, id and API port. */
export type Listed = Pick<FakeContainer, 'project' | 'service' | 'id' | 'port' | 'token'> & { state?: ObservedContainer['state'] };

/** A driver that lists `containers` (mutable) for the mesh label, gives their tokens as their environment, and counts the calls. */
export function fakeMeshDriver(containers: Listed[]): Pick<Driver, 'observeLabelled' | 'containerEnv'> & { calls: number; envCalls: number; fail?: Error | undefined } {
  const driver = {
    calls: 0,
    envCalls: 0,
    fail: undefined as Error | undefined,
    containerEnv(id: string, name: string): Promise<string | undefined> {
      driver.envCalls += 1;
      const container = containers.find((candidate) => candidate.id === id);
      return Promise.resolve(name === 'FLOTILLA_MESH_TOKEN' ? container?.token : undefined);
    },
    observeLabelled(label: string): Promise<ObservedState> {
      driver.calls += 1;
      if (driver.fail) return Promise.reject(driver.fail);
      if (label !== MESH_PROXY_LABEL) return Promise.resolve({ containers: [], networks: [], volumes: [] });
      return Promise.resolve({
        containers: containers.map((container) => observed(container)),
        networks: [],
        volumes: [],
      });
    },
  };
  return driver;
}

function observed(container: Listed): ObservedContainer {
  return {
    id: container.id,
    name: `${container.project}-${container.service}-mesh-1`,
    project: container.project,
    service: container.service,
    replica: 1,
    configHash: 'hash',
    imageId: 'sha256:mesh',
    state: container.state ?? 'running',
    exitCode: 0,
    labels: { 'dev.flotilla.project': container.project, 'dev.flotilla.service': container.service, 'dev.flotilla.mesh': 'proxy' },
    // The Engine lists both address families for a published port; the IPv6 one must not be chosen.
    ports: [
      { hostIp: '::', hostPort: container.port, containerPort: 8474, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: container.port, containerPort: 8474, protocol: 'tcp' },
    ],
  };
}
