/**
 * The mesh's control plane: one Toxiproxy-compatible API (127.0.0.1:8474 by default) over every
 * mesh proxy container on the Engine. `GET /proxies` merges their proxies; a proxy's routes and its
 * toxics' routes are forwarded to the container that holds it, with the name rewritten (and with
 * the container's token, read from the Engine); `/reset` resets them all, or one project's. The proxies themselves come from the Compose file, so this API does not create,
 * replace or delete them: only `enabled` and toxics change here.
 */
import { isDeepStrictEqual } from 'node:util';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { FlotillaError } from '../core/errors.js';
import { FLOTILLA_VERSION } from '../core/version.js';
import { parseBody, populateBody, prepareApiApp, proxyBody, type ProxyBody } from './api-http.js';
import { MeshError, missingField, proxyNotFound } from './errors.js';
import { describeEndpoint, mayBeStale, MeshIndex, type MeshIndexOptions, type ProxyTarget, type RemoteAnswer } from './control-plane-index.js';
import { TOXIPROXY_API_VERSION, TOXIPROXY_DEFAULT_PORT, type ProxyWithToxicsJson } from './toxiproxy-api.js';

/** The header on `GET /proxies` naming containers that did not answer in time (their proxies are missing from the list). */
export const UNREACHABLE_HEADER = 'x-flotilla-unreachable';

/** A proxy as the control plane shows it: Toxiproxy's JSON under its public name, plus where it runs. */
export interface ControlPlaneProxyJson extends ProxyWithToxicsJson {
  /** Extension: the Compose project of the proxy container, and the service the proxy fronts (the container's when the proxy does not say: one container may serve several). */
  project: string;
  service: string;
}

/** Refused because the proxies belong to the Compose file. */
function composeOwned(what: string, hint: string): MeshError {
  return new MeshError('MESH_PROXY_MANAGED', `${what}: the mesh's proxies are defined by the Compose file`, 400, { hint });
}

const MANAGED_HINT = 'Declare or change proxies with x-flotilla mesh settings and `flotilla up`; through this API, add toxics, or disable a proxy with {"enabled": false}.';

/** Header values are one line of visible ASCII. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 2_000);
}

/** Options of the control plane's HTTP application. */
export type ControlPlaneAppOptions = MeshIndexOptions & {
  /** Called with errors that are not MeshErrors (answered 500). */
  onInternalError?: (error: unknown) => void;
};

/** The Fastify application of the control plane, and the index behind it. */
export function createControlPlaneApp(options: ControlPlaneAppOptions): { app: FastifyInstance; index: MeshIndex } {
  const index = new MeshIndex(options);
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, forceCloseConnections: true });

  // Toxiproxy clients send no token, so state changes are open on loopback; browsers are what could
  // reach loopback on a user's behalf (a web page POSTing here), and they are refused.
  prepareApiApp(app, { refuseCrossOrigin: true, onInternalError: options.onInternalError });

  /** Proxy JSON from a container, under the name the client used. */
  const renamed = (json: ProxyWithToxicsJson, name: string, target: ProxyTarget): ControlPlaneProxyJson => ({
    ...json,
    name,
    project: target.endpoint.project,
    service: json.service ?? target.endpoint.service,
  });

  /**
   * Calls the container holding `name` at `/proxies/<inner name><rest>`. A container that refuses the
   * connection may be gone, and one seen paused may be running again: discovery is refreshed and,
   * when that changed anything (a recreated container, an unpaused one), the call is made once more;
   * a timeout is never retried.
   */
  const forward = async (name: string, method: string, rest: string, body?: string): Promise<{ target: ProxyTarget; answer: RemoteAnswer }> => {
    const target = await index.resolve(name);
    const path = (t: ProxyTarget): string => `/proxies/${encodeURIComponent(t.remote)}${rest}`;
    try {
      return { target, answer: await index.call(target.endpoint, method, path(target), body) };
    } catch (error) {
      if (!mayBeStale(error)) throw error;
      await index.refresh(0);
      const again = await index.resolve(name);
      const { url, containerId, paused } = target.endpoint;
      if (again.endpoint.url === url && again.endpoint.containerId === containerId && again.endpoint.paused === paused) throw error;
      return { target: again, answer: await index.call(again.endpoint, method, path(again), body) };
    }
  };

  /** Relays a container's answer; a proxy object in a success is renamed. */
  const relay = (reply: FastifyReply, answer: RemoteAnswer, rename?: { name: string; target: ProxyTarget }): FastifyReply => {
    reply.code(answer.status);
    if (answer.text === '') return reply.send();
    if (rename && answer.status < 300) {
      return reply.type('application/json').send(renamed(JSON.parse(answer.text) as ProxyWithToxicsJson, rename.name, rename.target));
    }
    return reply.type(answer.contentType ?? 'application/json').send(answer.text);
  };

  /** The current JSON of a proxy, or its container's error. */
  const current = async (name: string): Promise<{ target: ProxyTarget; json: ProxyWithToxicsJson }> => {
    const { target, answer } = await forward(name, 'GET', '');
    if (answer.status !== 200) {
      const detail = (() => {
        try {
          return (JSON.parse(answer.text) as { error?: string }).error;
        } catch {
          return undefined;
        }
      })();
      throw answer.status === 404 ? proxyNotFound(name) : new MeshError('MESH_PROXY_FAILED', detail ?? `the mesh proxy answered ${answer.status}`, answer.status);
    }
    return { target, json: JSON.parse(answer.text) as ProxyWithToxicsJson };
  };

  /** Refuses a change to what the Compose file owns: listen, upstream, kind, resilience. */
  const checkUnchanged = (name: string, body: ProxyBody, json: ProxyWithToxicsJson, where = ''): void => {
    for (const field of ['listen', 'upstream', 'kind'] as const) {
      const given = body[field];
      const now = field === 'kind' ? (json.kind ?? 'tcp') : json[field];
      if (given !== undefined && given !== now) {
        throw composeOwned(`${field}${where} of "${name}" cannot change (it is "${now}")`, MANAGED_HINT);
      }
    }
    if (body.resilience !== undefined && !isDeepStrictEqual(body.resilience, json.resilience)) {
      throw composeOwned(`resilience${where} of "${name}" cannot change`, MANAGED_HINT);
    }
  };

  type Named = { Params: { proxy: string } };
  type ToxicNamed = { Params: { proxy: string; toxic: string } };

  app.get('/version', () => ({ version: TOXIPROXY_API_VERSION, flotilla: FLOTILLA_VERSION }));

  app.get('/proxies', async (_request, reply) => {
    const { proxies, unreachable } = await index.list();
    const result: Record<string, ControlPlaneProxyJson> = {};
    for (const proxy of proxies) result[proxy.publicName] = renamed(proxy.json, proxy.publicName, proxy);
    if (unreachable.length > 0) {
      reply.header(UNREACHABLE_HEADER, headerSafe(unreachable.map((item) => `${describeEndpoint(item.endpoint)}: ${item.message}`).join('; ')));
    }
    return result;
  });

  app.post('/proxies', () => {
    throw composeOwned('proxies cannot be created here', 'Mesh a service with `x-flotilla: { mesh: true }` and `flotilla up`: its proxy then appears in GET /proxies.');
  });

  // Populate is create-or-replace; accepted only when it would change nothing (every item names an existing
  // proxy with its current settings), so a test that populates from what GET /proxies showed still runs.
  app.post('/populate', async (request, reply) => {
    const items = parseBody(populateBody, request.body);
    const found = await Promise.all(
      items.map(async (item, position) => {
        if (!item.name) throw missingField(`name at proxy ${position + 1}`);
        const name = item.name;
        const existing = await current(name).catch((error: unknown) => {
          if (error instanceof MeshError && error.status === 404) {
            throw composeOwned(`populate cannot create proxy "${name}"`, `Only existing mesh proxies may be named (GET /proxies lists them). ${MANAGED_HINT}`);
          }
          throw error;
        });
        checkUnchanged(name, item, existing.json, ` at proxy ${position + 1}`);
        return renamed(existing.json, name, existing.target);
      }),
    );
    return reply.code(201).send({ proxies: found });
  });

  app.get<Named>('/proxies/:proxy', async (request, reply) => {
    const { target, answer } = await forward(request.params.proxy, 'GET', '');
    return relay(reply, answer, { name: request.params.proxy, target });
  });

  // Toxiproxy's update: only `enabled` is forwarded (disabling a proxy is a fault); the Compose file owns the rest.
  const updateProxy = async (request: { params: { proxy: string }; body: unknown; method: string }, reply: FastifyReply): Promise<FastifyReply> => {
    const name = request.params.proxy;
    const body = parseBody(proxyBody, request.body);
    const { target, json } = await current(name);
    checkUnchanged(name, body, json);
    if (body.enabled === undefined || body.enabled === json.enabled) return reply.send(renamed(json, name, target));
    const { target: updated, answer } = await forward(name, request.method, '', JSON.stringify({ enabled: body.enabled }));
    return relay(reply, answer, { name, target: updated });
  };
  app.post<Named>('/proxies/:proxy', (request, reply) => updateProxy(request, reply));
  app.patch<Named>('/proxies/:proxy', (request, reply) => updateProxy(request, reply));

  app.delete<Named>('/proxies/:proxy', async (request) => {
    await index.resolve(request.params.proxy);
    throw composeOwned(`proxy "${request.params.proxy}" cannot be deleted`, 'To cut the service off, disable its proxy with {"enabled": false}; POST /reset enables it again.');
  });

  app.get<Named>('/proxies/:proxy/toxics', async (request, reply) => relay(reply, (await forward(request.params.proxy, 'GET', '/toxics')).answer));

  app.post<Named>('/proxies/:proxy/toxics', async (request, reply) => {
    const body = typeof request.body === 'string' ? request.body : '';
    return relay(reply, (await forward(request.params.proxy, 'POST', '/toxics', body)).answer);
  });

  const toxicRoute = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE') => async (request: { params: { proxy: string; toxic: string }; body: unknown }, reply: FastifyReply) => {
    const body = method === 'POST' || method === 'PATCH' ? (typeof request.body === 'string' ? request.body : '') : undefined;
    return relay(reply, (await forward(request.params.proxy, method, `/toxics/${encodeURIComponent(request.params.toxic)}`, body)).answer);
  };
  app.get<ToxicNamed>('/proxies/:proxy/toxics/:toxic', toxicRoute('GET'));
  app.post<ToxicNamed>('/proxies/:proxy/toxics/:toxic', toxicRoute('POST'));
  app.patch<ToxicNamed>('/proxies/:proxy/toxics/:toxic', toxicRoute('PATCH'));
  app.delete<ToxicNamed>('/proxies/:proxy/toxics/:toxic', toxicRoute('DELETE'));

  // Every container is reset at once; the answer waits for all (each bounded by the call timeout) and names any that failed.
  // Extension: `?project=P` resets only that Compose project's containers (`flotilla fault reset` in a project).
  app.post<{ Querystring: { project?: unknown } }>('/reset', async (request, reply) => {
    const { project } = request.query;
    if (project !== undefined && (typeof project !== 'string' || project === '')) throw new MeshError('MESH_BAD_REQUEST', 'project: expected one project name', 400);
    const endpoints = (await index.endpoints()).filter((endpoint) => project === undefined || endpoint.project === project);
    const failures = (
      await Promise.all(
        endpoints.map(async (endpoint) => {
          try {
            const answer = await index.call(endpoint, 'POST', '/reset');
            return answer.status < 300 ? undefined : `${describeEndpoint(endpoint)} answered ${answer.status}`;
          } catch (error) {
            return error instanceof Error ? error.message : String(error);
          }
        }),
      )
    ).filter((failure): failure is string => failure !== undefined);
    if (failures.length > 0) {
      throw new MeshError('MESH_RESET_INCOMPLETE', `reset ${endpoints.length - failures.length} of ${endpoints.length} mesh proxies; ${failures.join('; ')}`, 502, {
        hint: 'Reset again once those containers answer; the others are reset already.',
      });
    }
    return reply.code(204).send();
  });

  return { app, index };
}

/** Where to serve the control plane. It always binds 127.0.0.1: its state-changing routes take no token. */
export type ControlPlaneOptions = ControlPlaneAppOptions & {
  /** 8474 unless given; 0 picks a free port. */
  port?: number;
};

/** A listening control plane; dispose it (or `close()`) to stop. */
export interface StartedControlPlane extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly index: MeshIndex;
  close(): Promise<void>;
}

/** Serves the control plane on 127.0.0.1. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<StartedControlPlane> {
  const { app, index } = createControlPlaneApp(options);
  const port = options.port ?? TOXIPROXY_DEFAULT_PORT;
  try {
    await app.listen({ host: '127.0.0.1', port });
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new FlotillaError('MESH_API_PORT_IN_USE', `port ${port} on 127.0.0.1 is already in use`, {
        hint: 'Another `flotilla serve` or a Toxiproxy server may hold it; choose another with --mesh-port and set FLOTILLA_MESH_API to match.',
        cause: error,
      });
    }
    throw error;
  }
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  const close = async (): Promise<void> => {
    await app.close();
  };
  return { url, app, index, close, [Symbol.asyncDispose]: close };
}
