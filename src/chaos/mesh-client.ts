/**
 * The one client of the mesh's Toxiproxy-compatible API (`flotilla serve`'s control plane, or any
 * Toxiproxy server): FLOTILLA_MESH_API, else http://127.0.0.1:8474. `flotilla fault` uses it as it
 * is; chaos experiments through `faultClient`, which names a service's proxy `<project>.<service>`
 * so a fault never lands in another project that has a service of the same name. Answers become
 * errors a person can act on: not running → how to start it; 4xx → a usage error with the API's message.
 */
import { FlotillaError, UsageError } from '../core/errors.js';
import type { ToxicSpec } from '../spec/types.js';
import { noSuchService, proxiesTaking, selectProxies, type NamedProxy } from './proxy-selection.js';

/** Where the mesh API listens unless FLOTILLA_MESH_API says otherwise. */
export const DEFAULT_MESH_API = 'http://127.0.0.1:8474';

/** The header the control plane sets on `GET /proxies` when some containers did not answer (mesh/control-plane.ts `UNREACHABLE_HEADER`). */
const UNREACHABLE_HEADER = 'x-flotilla-unreachable';

/** A toxic as the API shows it. */
export interface MeshToxicJson {
  name: string;
  type: string;
  stream: string;
  toxicity: number;
  attributes: Record<string, unknown>;
}

/** A proxy as the control plane lists it; `project`, `service` and `kind` are extensions a plain Toxiproxy leaves out. */
export interface MeshProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  kind?: string;
  project?: string;
  service?: string;
  toxics: MeshToxicJson[];
}

/** A toxic to add. */
export interface MeshToxicRequest {
  name?: string;
  type: string;
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, string | number>;
}

/** Calls to the mesh API. */
export interface MeshClient {
  /** Where it talks to, for messages. */
  readonly url: string;
  /** Every proxy by public name; `unreachable` names proxy containers that did not answer (their proxies are missing). */
  proxies(): Promise<{ proxies: Record<string, MeshProxyJson>; unreachable: string | undefined }>;
  /** One proxy; a 404 is a usage error hinting that the service may not be meshed. */
  proxy(name: string): Promise<MeshProxyJson>;
  addToxic(proxy: string, toxic: MeshToxicRequest | ToxicSpec): Promise<MeshToxicJson>;
  /** False when there was no such toxic (or proxy): either way, no such fault is left. */
  removeToxic(proxy: string, name: string): Promise<boolean>;
  /** Removes every toxic and enables every proxy; with `project`, only that Compose project's (a Flotilla control plane only). */
  reset(options?: { project?: string | undefined }): Promise<void>;
}

/** FLOTILLA_MESH_API, else the default. */
export function meshApiUrl(env: Record<string, string | undefined>): string {
  return env['FLOTILLA_MESH_API'] || DEFAULT_MESH_API;
}

/** The client of the mesh API named by the environment. */
export function meshClientFromEnv(env: Record<string, string | undefined> = process.env): MeshClient {
  return createMeshClient(meshApiUrl(env));
}

/** A client of the mesh API at `url`. */
export function createMeshClient(url: string, options: { timeoutMs?: number } = {}): MeshClient {
  const base = url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;

  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await fetch(`${base}${path}`, {
        method,
        headers: { 'user-agent': 'flotilla', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
    } catch (error) {
      if (signal.aborted) {
        throw new FlotillaError('MESH_API_TIMEOUT', `the mesh API at ${base} did not answer within ${timeoutMs / 1000}s`, {
          hint: 'Is `flotilla serve` stuck? Its log says more.',
          cause: error,
        });
      }
      const reason = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new FlotillaError('MESH_API_NOT_RUNNING', `no mesh API answers at ${base} (${reason})`, {
        hint: 'Start the control plane with `flotilla serve` (it serves the mesh API on 127.0.0.1:8474), or set FLOTILLA_MESH_API to where one runs.',
        cause: error,
      });
    }
  };

  const failure = async (response: Response, what: string): Promise<FlotillaError> => {
    const text = await response.text().catch(() => '');
    let message = text.trim();
    let hint: string | undefined;
    try {
      const parsed = JSON.parse(text) as { error?: unknown; hint?: unknown };
      if (typeof parsed.error === 'string') message = parsed.error;
      if (typeof parsed.hint === 'string') hint = parsed.hint;
    } catch {
      // Not JSON: keep the text.
    }
    hint ??= response.status === 404 ? 'Is the service meshed? Each meshed service has a proxy named after it (GET /proxies lists them).' : undefined;
    const full = `cannot ${what}: the mesh API answered ${response.status}${message ? ` (${message})` : ''}`;
    // A 4xx is about what was asked (a bad attribute, a name that does not exist): exit 2 like any usage error.
    if (response.status >= 400 && response.status < 500) return new UsageError(full, { hint });
    return new FlotillaError(`MESH_API_${response.status}`, full, { hint });
  };

  const proxyPath = (proxy: string): string => `/proxies/${encodeURIComponent(proxy)}`;

  return {
    url: base,
    async proxies() {
      const response = await call('GET', '/proxies');
      if (!response.ok) throw await failure(response, 'list the proxies');
      const proxies = (await response.json()) as Record<string, MeshProxyJson>;
      return { proxies, unreachable: response.headers.get(UNREACHABLE_HEADER) ?? undefined };
    },
    async proxy(name) {
      const response = await call('GET', proxyPath(name));
      if (!response.ok) throw await failure(response, `find the proxy ${name}`);
      return (await response.json()) as MeshProxyJson;
    },
    async addToxic(proxy, toxic) {
      const response = await call('POST', `${proxyPath(proxy)}/toxics`, toxic);
      if (!response.ok) throw await failure(response, `add ${toxic.name ?? toxic.type} to ${proxy}`);
      return (await response.json()) as MeshToxicJson;
    },
    async removeToxic(proxy, name) {
      const response = await call('DELETE', `${proxyPath(proxy)}/toxics/${encodeURIComponent(name)}`);
      if (response.status === 404) {
        // A missing toxic is what was wanted; a missing proxy still answers 404, and that too leaves no fault behind.
        await response.body?.cancel();
        return false;
      }
      if (!response.ok) throw await failure(response, `remove ${name} from ${proxy}`);
      await response.body?.cancel();
      return true;
    },
    async reset(options = {}) {
      const query = options.project === undefined ? '' : `?project=${encodeURIComponent(options.project)}`;
      const response = await call('POST', `/reset${query}`);
      if (!response.ok) throw await failure(response, options.project === undefined ? 'reset the mesh' : `reset the mesh proxies of ${options.project}`);
      await response.body?.cancel();
    },
  };
}

/** What a chaos experiment asks of the mesh: faults on services, by service name. */
export interface FaultClient {
  /** Where it talks to, for messages. */
  readonly url: string;
  /** Fails with a hint when the mesh has no proxy for `service` (it is not meshed), or, given a fault type, none that takes it. */
  checkProxy(service: string, type?: string): Promise<void>;
  addToxic(service: string, toxic: ToxicSpec): Promise<void>;
  /** Resolves when the toxic is gone, also when it was never there (404). */
  removeToxic(service: string, name: string): Promise<void>;
}

/**
 * Faults on the services of `project` through `mesh`, by service name: a fault goes on every proxy
 * of the service that takes it (a service with several ports has a proxy per port), all or none;
 * a name that matches no proxy fails with the names there are. Without a project (no Compose
 * file), a name meshed in several projects is refused as ambiguous.
 */
export function faultClient(mesh: MeshClient, project?: string): FaultClient {
  const proxiesOf = async (service: string): Promise<NamedProxy[]> => {
    const { proxies } = await mesh.proxies();
    const selected = selectProxies(service, proxies, project);
    if (selected.length === 0) throw noSuchService(service, proxies);
    return selected;
  };
  return {
    url: mesh.url,
    async checkProxy(service, type) {
      const selected = await proxiesOf(service);
      if (type !== undefined) proxiesTaking(type, selected);
    },
    async addToxic(service, toxic) {
      const targets = proxiesTaking(toxic.type, await proxiesOf(service));
      const added: string[] = [];
      try {
        for (const { name } of targets) {
          await mesh.addToxic(name, toxic);
          added.push(name);
        }
      } catch (error) {
        await Promise.all(added.map((name) => mesh.removeToxic(name, toxic.name).catch(() => false)));
        throw error;
      }
    },
    async removeToxic(service, name) {
      // A proxy gone meanwhile holds no fault any more: nothing to remove is what was wanted.
      const { proxies } = await mesh.proxies();
      for (const proxy of selectProxies(service, proxies, project)) await mesh.removeToxic(proxy.name, name);
    },
  };
}
