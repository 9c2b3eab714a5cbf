/**
 * Where the mesh's proxy containers are: each proxy container (one fronts the meshed services of a
 * network) is labelled `dev.flotilla.mesh=proxy` and has a Toxiproxy-compatible API on container
 * port 8474, published on the host's loopback. The control plane finds them by that label alone
 * (labels are the truth); each proxy in an API's list names the service it fronts.
 */
import type { Driver, ObservedContainer } from '../runtime/driver.js';
import { meshProxyServices } from '../runtime/labels.js';
import { MESH_TOKEN_ENV } from './api-http.js';
import { TOXIPROXY_DEFAULT_PORT } from './toxiproxy-api.js';

/** The label every mesh proxy container carries. */
export const MESH_PROXY_LABEL = 'dev.flotilla.mesh=proxy';

/** The container port of a proxy container's API. */
export const MESH_PROXY_API_PORT = TOXIPROXY_DEFAULT_PORT;

/** The API of one running proxy container. */
export interface MeshEndpoint {
  project: string;
  service: string;
  /** The services its proxies front, from its label: where a proxy name (`S`, `S-<port>`) is looked for first. */
  services?: string[];
  /** For messages and to tell two containers of one service apart. */
  containerId: string;
  /** `http://127.0.0.1:<published port>`. */
  url: string;
  /** A paused container is listed (its proxies exist) but cannot answer: calls to it fail at once. */
  paused?: boolean;
  /** The token its API requires (FLOTILLA_MESH_TOKEN in its environment); absent for a proxy started without one. */
  token?: string;
}

/** Lists the proxy containers' APIs; the control plane caches the answer. */
export interface MeshDiscovery {
  list(): Promise<MeshEndpoint[]>;
}

/** The endpoint of an observed proxy container, or undefined when it is not running (or paused) or publishes no API port. */
export function endpointOf(container: ObservedContainer): MeshEndpoint | undefined {
  if ((container.state !== 'running' && container.state !== 'paused') || !container.project || !container.service) return undefined;
  const published = container.ports.filter((port) => port.containerPort === MESH_PROXY_API_PORT && port.protocol === 'tcp' && port.hostPort > 0);
  // The Engine lists one binding per address family; IPv4 loopback is what the contract asks for.
  const port = published.find((candidate) => !candidate.hostIp.includes(':')) ?? published[0];
  if (!port) return undefined;
  const url = `http://${hostFor(port.hostIp)}:${port.hostPort}`;
  const services = meshProxyServices(container);
  return {
    project: container.project, service: container.service, containerId: container.id, url,
    ...(services.length > 0 && { services }),
    ...(container.state === 'paused' && { paused: true }),
  };
}

/** A wildcard binding is reached on loopback; a specific address as it is. */
function hostFor(hostIp: string): string {
  if (hostIp === '' || hostIp === '0.0.0.0') return '127.0.0.1';
  if (hostIp === '::') return '[::1]';
  return hostIp.includes(':') ? `[${hostIp}]` : hostIp;
}

/**
 * Discovery through the runtime: running containers labelled as mesh proxies, each with the token
 * of its API read from its environment. A container's environment never changes, so its token is
 * read once per container (a recreated container has a new id, and is read again).
 */
export function driverDiscovery(driver: Pick<Driver, 'observeLabelled' | 'containerEnv'>): MeshDiscovery {
  const tokens = new Map<string, Promise<string | undefined>>();
  const tokenOf = (id: string): Promise<string | undefined> => {
    let token = tokens.get(id);
    if (!token) {
      token = driver.containerEnv(id, MESH_TOKEN_ENV);
      // A failed read is not kept: the next discovery asks again.
      void token.catch(() => tokens.delete(id));
      tokens.set(id, token);
    }
    return token;
  };
  return {
    async list() {
      const { containers } = await driver.observeLabelled(MESH_PROXY_LABEL);
      const endpoints = containers.flatMap((container) => endpointOf(container) ?? []);
      const live = new Set(endpoints.map((endpoint) => endpoint.containerId));
      for (const id of tokens.keys()) if (!live.has(id)) tokens.delete(id);
      return Promise.all(
        endpoints.map(async (endpoint) => {
          const token = await tokenOf(endpoint.containerId);
          return token === undefined ? endpoint : { ...endpoint, token };
        }),
      );
    },
  };
}
