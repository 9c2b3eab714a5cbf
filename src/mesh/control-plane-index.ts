/**
 * The control plane's view of the mesh: which proxy containers run (discovery, cached briefly and
 * refreshed on a miss), which proxies each one holds, how a public proxy name maps to a container
 * and the proxy's name inside it, and the one way to call a container (always with a timeout, so
 * one slow container never holds up a request about another).
 */
import { FlotillaError } from '../core/errors.js';
import { MESH_TOKEN_HEADER } from './api-http.js';
import { MeshError, proxyNotFound } from './errors.js';
import type { MeshDiscovery, MeshEndpoint } from './control-plane-discovery.js';
import type { ProxyWithToxicsJson } from './toxiproxy-api.js';

/** How long a discovery answer or a container's proxy list is reused. */
export const DEFAULT_CACHE_MS = 1_500;
/** How long one call to a proxy container may take. */
export const DEFAULT_CALL_TIMEOUT_MS = 2_500;
/** How long discovery (the Engine's container list) may take. */
export const DEFAULT_DISCOVERY_TIMEOUT_MS = 5_000;
/** A miss refreshes discovery, but no more often than this: a client looping on 404s cannot hammer the Engine. */
const MIN_REFRESH_MS = 250;

/** A container's answer, as text. */
export interface RemoteAnswer {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** A public proxy name resolved: the container holding it and its name there. */
export interface ProxyTarget {
  endpoint: MeshEndpoint;
  /** The proxy's name inside the container. */
  remote: string;
}

/** One proxy of the aggregated list. */
export interface ListedProxy extends ProxyTarget {
  /** `remote` when no other project has a proxy of that name, else `project.remote`. */
  publicName: string;
  json: ProxyWithToxicsJson;
}

/** A container that did not answer, with why. */
export interface UnreachableEndpoint {
  endpoint: MeshEndpoint;
  message: string;
}

/** Options of a MeshIndex. */
export interface MeshIndexOptions {
  discovery: MeshDiscovery;
  cacheMs?: number;
  callTimeoutMs?: number;
  discoveryTimeoutMs?: number;
  /** Milliseconds, monotonic; injectable for tests. */
  now?: () => number;
}

/** `project/service` of a container, for messages. */
export function describeEndpoint(endpoint: MeshEndpoint): string {
  return `${endpoint.project}/${endpoint.service}`;
}

/** Whether `remote` is a name the contract gives the proxies of `service`: `S`, or `S-<port>`. */
export function serviceOwns(service: string, remote: string): boolean {
  if (remote === service) return true;
  return remote.startsWith(`${service}-`) && /^\d+$/.test(remote.slice(service.length + 1));
}

/** Public names: the proxy's own name when it is unique on the Engine, else prefixed with its project. */
export function publicNames(entries: readonly { endpoint: MeshEndpoint; remote: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const { remote } of entries) counts.set(remote, (counts.get(remote) ?? 0) + 1);
  return entries.map(({ endpoint, remote }) => ((counts.get(remote) ?? 0) > 1 ? `${endpoint.project}.${remote}` : remote));
}

function timeoutError(endpoint: MeshEndpoint, ms: number): MeshError {
  return new MeshError('MESH_PROXY_TIMEOUT', `the mesh proxy of ${describeEndpoint(endpoint)} did not answer within ${ms / 1000}s`, 504, {
    hint: `Its container (${endpoint.containerId.slice(0, 12)}) may be paused or overloaded; \`docker ps\` shows its state.`,
  });
}

/** Calls one container's API: never waits longer than `timeoutMs`; network failures are MeshErrors (502, 504 for a timeout). */
export async function callEndpoint(endpoint: MeshEndpoint, method: string, path: string, body: string | undefined, timeoutMs: number): Promise<RemoteAnswer> {
  if (endpoint.paused) {
    // Its proxies are frozen with it (a chaos `pause`, say): say so now rather than after the timeout.
    throw new MeshError('MESH_PROXY_PAUSED', `the mesh proxy of ${describeEndpoint(endpoint)} is paused`, 503, {
      hint: `Unpause its container (docker unpause ${endpoint.containerId.slice(0, 12)}) to change its faults.`,
    });
  }
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(`${endpoint.url}${path}`, {
      method,
      headers: {
        'user-agent': 'flotilla-mesh-control-plane',
        ...(endpoint.token === undefined ? {} : { [MESH_TOKEN_HEADER]: endpoint.token }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body }),
      signal,
    });
    // The body is read under the same deadline: a container that sends headers and stalls is still cut off.
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type') ?? undefined, text };
  } catch (error) {
    if (signal.aborted) throw timeoutError(endpoint, timeoutMs);
    const reason = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new MeshError('MESH_PROXY_UNREACHABLE', `the mesh proxy of ${describeEndpoint(endpoint)} at ${endpoint.url} did not answer: ${reason}`, 502, {
      hint: 'Its container may have just stopped; `docker ps` shows the mesh proxies running.',
      cause: error,
    });
  }
}

/** Whether a failed call may come from stale discovery (the container is gone, or was paused), not from a slow container. */
export function mayBeStale(error: unknown): boolean {
  return error instanceof MeshError && (error.code === 'MESH_PROXY_UNREACHABLE' || error.code === 'MESH_PROXY_PAUSED');
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/** The control plane's cached view of the mesh proxy containers. */
export class MeshIndex {
  readonly callTimeoutMs: number;
  private readonly discovery: MeshDiscovery;
  private readonly cacheMs: number;
  private readonly discoveryTimeoutMs: number;
  private readonly now: () => number;
  private discovered: Cached<MeshEndpoint[]> | undefined;
  private refreshing: Promise<MeshEndpoint[]> | undefined;
  private readonly names = new Map<string, Cached<string[]>>();

  constructor(options: MeshIndexOptions) {
    this.discovery = options.discovery;
    this.cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.discoveryTimeoutMs = options.discoveryTimeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /** The running proxy containers, from the cache while it is fresh. */
  endpoints(): Promise<MeshEndpoint[]> {
    if (this.discovered && this.now() - this.discovered.at < this.cacheMs) return this.discovered.value;
    return this.refresh(0);
  }

  /** Asks discovery again unless an answer younger than `maxAgeMs` exists; concurrent refreshes share one call. */
  refresh(maxAgeMs = MIN_REFRESH_MS): Promise<MeshEndpoint[]> {
    if (this.discovered && this.now() - this.discovered.at < maxAgeMs) return this.discovered.value;
    if (this.refreshing) return this.refreshing;
    const started = this.now();
    const refreshing = this.discover().then(
      (endpoints) => {
        this.discovered = { at: started, value: Promise.resolve(endpoints) };
        // Forget proxy lists of containers that are gone, so the map does not grow with churn.
        const live = new Set(endpoints.map(endpointKey));
        for (const key of this.names.keys()) if (!live.has(key)) this.names.delete(key);
        return endpoints;
      },
    ).finally(() => {
      this.refreshing = undefined;
    });
    this.refreshing = refreshing;
    return refreshing;
  }

  /** Calls a container with the index's timeout. */
  call(endpoint: MeshEndpoint, method: string, path: string, body?: string): Promise<RemoteAnswer> {
    return callEndpoint(endpoint, method, path, body, this.callTimeoutMs);
  }

  /** Every proxy of every container that answers in time, with its public name; the others are reported, not waited for. */
  async list(): Promise<{ proxies: ListedProxy[]; unreachable: UnreachableEndpoint[] }> {
    const endpoints = await this.endpoints();
    const answers = await Promise.all(
      endpoints.map(async (endpoint) => {
        try {
          return { endpoint, proxies: await this.fetchProxies(endpoint) };
        } catch (error) {
          return { endpoint, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const entries: { endpoint: MeshEndpoint; remote: string; json: ProxyWithToxicsJson }[] = [];
    const unreachable: UnreachableEndpoint[] = [];
    for (const answer of answers) {
      if ('error' in answer) {
        unreachable.push({ endpoint: answer.endpoint, message: answer.error ?? 'no answer' });
        continue;
      }
      for (const [remote, json] of Object.entries(answer.proxies)) entries.push({ endpoint: answer.endpoint, remote, json });
    }
    const names = publicNames(entries);
    return { proxies: entries.map((entry, index) => ({ ...entry, publicName: names[index] ?? entry.remote })), unreachable };
  }

  /**
   * The container and inner name behind a public name: `S`, `S-<port>` (or any name a container
   * holds), optionally prefixed `project.`. Candidates come from the labels first and the
   * containers' proxy lists only when the labels leave a choice; a miss refreshes discovery once.
   */
  async resolve(name: string): Promise<ProxyTarget> {
    let endpoints = await this.endpoints();
    for (let attempt = 0; ; attempt++) {
      const found = await this.resolveIn(name, endpoints);
      if (found) return found;
      if (attempt > 0) throw proxyNotFound(name);
      endpoints = await this.refresh();
    }
  }

  private async resolveIn(name: string, endpoints: readonly MeshEndpoint[]): Promise<ProxyTarget | undefined> {
    const dot = name.indexOf('.');
    // Project names hold no dots; service names may, so `a.b` is `project a, proxy b` only when project a runs.
    const project = dot > 0 ? name.slice(0, dot) : undefined;
    const scoped = project !== undefined && endpoints.some((endpoint) => endpoint.project === project);
    const remote = scoped ? name.slice(dot + 1) : name;
    const inScope = scoped ? endpoints.filter((endpoint) => endpoint.project === project) : endpoints;

    const byLabel = inScope.filter((endpoint) => (endpoint.services ?? [endpoint.service]).some((service) => serviceOwns(service, remote)));
    if (byLabel.length === 1 && byLabel[0]) return { endpoint: byLabel[0], remote };
    // Several containers could hold it (the same service in two projects), or the name is not one the labels predict: ask them.
    const holders = await this.holders(byLabel.length > 1 ? byLabel : inScope, remote);
    if (holders.length === 0) return undefined;
    const [only, ...others] = holders;
    if (only && others.length === 0) return { endpoint: only, remote };
    throw new MeshError('MESH_PROXY_AMBIGUOUS', 'proxy name is ambiguous', 409, {
      hint: `"${remote}" exists in ${holders.map(describeEndpoint).join(', ')}: name it ${holders.map((endpoint) => `${endpoint.project}.${remote}`).join(' or ')}.`,
    });
  }

  /** Containers among `candidates` whose proxy list holds `remote`; a container that does not answer holds nothing. */
  private async holders(candidates: readonly MeshEndpoint[], remote: string): Promise<MeshEndpoint[]> {
    const lists = await Promise.all(candidates.map((endpoint) => this.proxyNames(endpoint).catch(() => [] as string[])));
    return candidates.filter((_, index) => lists[index]?.includes(remote));
  }

  private proxyNames(endpoint: MeshEndpoint): Promise<string[]> {
    const key = endpointKey(endpoint);
    const cached = this.names.get(key);
    if (cached && this.now() - cached.at < this.cacheMs) return cached.value;
    const value = this.fetchProxies(endpoint).then((proxies) => Object.keys(proxies));
    // A failure is not cached: the next request asks again.
    void value.catch(() => this.names.delete(key));
    this.names.set(key, { at: this.now(), value });
    return value;
  }

  private async fetchProxies(endpoint: MeshEndpoint): Promise<Record<string, ProxyWithToxicsJson>> {
    const answer = await this.call(endpoint, 'GET', '/proxies');
    if (answer.status !== 200) throw new Error(`GET /proxies answered ${answer.status}`);
    const proxies = JSON.parse(answer.text) as Record<string, ProxyWithToxicsJson>;
    this.names.set(endpointKey(endpoint), { at: this.now(), value: Promise.resolve(Object.keys(proxies)) });
    return proxies;
  }

  private async discover(): Promise<MeshEndpoint[]> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.discoveryTimeoutMs / 1000}s`)), this.discoveryTimeoutMs);
    });
    try {
      return await Promise.race([this.discovery.list(), deadline]);
    } catch (error) {
      const hint = error instanceof FlotillaError ? error.hint : undefined;
      throw new MeshError('MESH_DISCOVERY_FAILED', `cannot list the mesh proxy containers: ${error instanceof Error ? error.message : String(error)}`, 503, {
        hint: hint ?? 'The control plane finds proxies through the Docker Engine; is it running?',
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

function endpointKey(endpoint: MeshEndpoint): string {
  return `${endpoint.containerId} ${endpoint.url}`;
}
