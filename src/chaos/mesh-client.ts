/**
 * The mesh's control API, as Toxiproxy's: a proxy per meshed service, named after it. Faults are
 * toxics added to and removed from that proxy. Any Toxiproxy-compatible server works.
 */
import { FlotillaError } from '../core/errors.js';
import type { ToxicSpec } from '../spec/types.js';

/** Where the mesh API listens unless FLOTILLA_MESH_API or the stack says otherwise. */
export const DEFAULT_MESH_API = 'http://127.0.0.1:8474';

/** Adds and removes faults. */
export interface FaultClient {
  /** Where it talks to, for messages. */
  readonly url: string;
  /** Fails with a hint when the mesh has no proxy for `service` (it is not meshed). */
  checkProxy(service: string): Promise<void>;
  addToxic(service: string, toxic: ToxicSpec): Promise<void>;
  /** Resolves when the toxic is gone, also when it was never there (404). */
  removeToxic(service: string, name: string): Promise<void>;
}

/** A client of the Toxiproxy-compatible API at `url`. */
export function createFaultClient(url: string, options: { timeoutMs?: number } = {}): FaultClient {
  const base = url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    try {
      return await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new FlotillaError('MESH_UNREACHABLE', `the mesh API at ${base} did not answer: ${(error as { cause?: Error }).cause?.message ?? (error as Error).message}`, {
        hint: 'Is the mesh running (x-flotilla: { mesh: true } and `flotilla up`)? Set FLOTILLA_MESH_API to reach it elsewhere.',
        cause: error,
      });
    }
  };
  const failure = async (response: Response, what: string): Promise<FlotillaError> => {
    const text = await response.text().catch(() => '');
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // Not JSON: keep the text.
    }
    const hint = response.status === 404 ? 'Is the service meshed? Each meshed service has a proxy named after it (GET /proxies lists them).' : undefined;
    return new FlotillaError('MESH_REFUSED', `${what}: the mesh API answered ${response.status}${message ? ` (${message.trim()})` : ''}`, { hint });
  };
  return {
    url: base,
    async checkProxy(service) {
      const response = await call('GET', `/proxies/${encodeURIComponent(service)}`);
      if (!response.ok) throw await failure(response, `find the proxy of ${service}`);
      await response.body?.cancel();
    },
    async addToxic(service, toxic) {
      const response = await call('POST', `/proxies/${encodeURIComponent(service)}/toxics`, toxic);
      if (!response.ok) throw await failure(response, `add toxic ${toxic.name} to ${service}`);
      await response.body?.cancel();
    },
    async removeToxic(service, name) {
      const response = await call('DELETE', `/proxies/${encodeURIComponent(service)}/toxics/${encodeURIComponent(name)}`);
      if (response.status === 404) {
        // A missing toxic is what was wanted; a missing proxy still answers 404, and that too leaves no fault behind.
        await response.body?.cancel();
        return;
      }
      if (!response.ok) throw await failure(response, `remove toxic ${name} from ${service}`);
      await response.body?.cancel();
    },
  };
}

/** FLOTILLA_MESH_API, else the stack's setting, else the default. */
export function meshApiUrl(env: Record<string, string | undefined>, configured?: string): string {
  return env['FLOTILLA_MESH_API'] || configured || DEFAULT_MESH_API;
}
