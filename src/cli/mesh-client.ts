/**
 * The CLI's way to the mesh control plane (`flotilla serve`'s Toxiproxy-compatible API, or any
 * Toxiproxy server): FLOTILLA_MESH_API, else http://127.0.0.1:8474. Its answers become errors a
 * person can act on: not running → how to start it; 4xx → a usage error with the API's message.
 */
import { meshApiUrl } from '../chaos/mesh-client.js';
import { FlotillaError, UsageError } from '../core/errors.js';

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
  readonly url: string;
  /** Every proxy by public name; `unreachable` names proxy containers that did not answer (their proxies are missing). */
  proxies(): Promise<{ proxies: Record<string, MeshProxyJson>; unreachable: string | undefined }>;
  addToxic(proxy: string, toxic: MeshToxicRequest): Promise<MeshToxicJson>;
  /** False when there was no such toxic (or proxy). */
  removeToxic(proxy: string, name: string): Promise<boolean>;
  /** Removes every toxic and enables every proxy. */
  reset(): Promise<void>;
}

/** The header the control plane sets on `GET /proxies` when some containers did not answer (see mesh/control-plane.ts). */
const UNREACHABLE_HEADER = 'x-flotilla-unreachable';

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
        headers: { 'user-agent': 'flotilla-cli', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
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
    async addToxic(proxy, toxic) {
      const response = await call('POST', `${proxyPath(proxy)}/toxics`, toxic);
      if (!response.ok) throw await failure(response, `add ${toxic.type} to ${proxy}`);
      return (await response.json()) as MeshToxicJson;
    },
    async removeToxic(proxy, name) {
      const response = await call('DELETE', `${proxyPath(proxy)}/toxics/${encodeURIComponent(name)}`);
      if (response.status === 404) {
        await response.body?.cancel();
        return false;
      }
      if (!response.ok) throw await failure(response, `remove ${name} from ${proxy}`);
      await response.body?.cancel();
      return true;
    },
    async reset() {
      const response = await call('POST', '/reset');
      if (!response.ok) throw await failure(response, 'reset the mesh');
      await response.body?.cancel();
    },
  };
}
