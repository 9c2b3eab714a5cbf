/**
 * An HTTP API compatible with Toxiproxy's (v2), so existing Toxiproxy clients drive Flotilla's mesh
 * unchanged: same routes, JSON shapes, status codes and `{"error", "status"}` errors. It binds
 * 127.0.0.1:8474 by default and, as Toxiproxy does, refuses browsers (a web page could otherwise
 * POST to it); given a token (in a proxy container), it also refuses requests without it.
 * Message-level faults arrive through the same toxic routes once the catalog has them.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import * as z from 'zod';
import { FLOTILLA_VERSION } from '../core/version.js';
import { parseBody, populateBody, prepareApiApp, proxyBody } from './api-http.js';
import { badRequest } from './errors.js';
import type { ProxyRegistry } from './proxy-registry.js';
import type { MeshProxy, ProxyJson } from './mesh-proxy.js';
import { toxicToJson, type ToxicJson } from './toxic-collection.js';

/** Toxiproxy's default API port. */
export const TOXIPROXY_DEFAULT_PORT = 8474;

/** The Toxiproxy API version this one follows (PATCH updates, JSON /version). */
export const TOXIPROXY_API_VERSION = '2.6.0';

/** A proxy with its toxics: Toxiproxy's proxy JSON. */
export interface ProxyWithToxicsJson extends ProxyJson {
  toxics: ToxicJson[];
}

const attributesBody = z.record(z.string(), z.unknown());
const toxicBody = z.object({
  name: z.string().optional(),
  type: z.string().optional(),
  stream: z.string().optional(),
  toxicity: z.number().optional(),
  attributes: attributesBody.optional(),
});
// Name, type and stream of an existing toxic cannot change; clients often send them back anyway.
const toxicPatchBody = z.object({ toxicity: z.number().optional(), attributes: attributesBody.optional() });

function proxyJson(proxy: MeshProxy): ProxyWithToxicsJson {
  return { ...proxy.toJSON(), toxics: proxy.toxics.list().map(toxicToJson) };
}

/** Options for the API's HTTP application. */
export interface ToxiproxyAppOptions {
  registry: ProxyRegistry;
  /**
   * When set, every request must carry `x-flotilla-mesh-token: <token>` (else 403). A proxy
   * container's API listens on every interface of the container, so any container on its networks
   * could otherwise reset its faults; the control plane reads the token from the Engine.
   */
  token?: string | undefined;
  /** Called with errors that are not a MeshError (answered 500). */
  onInternalError?: (error: unknown) => void;
}

/** The Fastify application serving Toxiproxy's routes over `registry`. */
export function createToxiproxyApp(options: ToxiproxyAppOptions): FastifyInstance {
  const { registry } = options;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, forceCloseConnections: true });

  prepareApiApp(app, { token: options.token, onInternalError: options.onInternalError });

  type Named = { Params: { proxy: string } };
  type ToxicNamed = { Params: { proxy: string; toxic: string } };

  app.post('/reset', async (_request, reply) => {
    await registry.reset();
    return reply.code(204).send();
  });

  app.get('/proxies', () => {
    const result: Record<string, ProxyWithToxicsJson> = {};
    for (const proxy of registry.list()) result[proxy.name] = proxyJson(proxy);
    return result;
  });

  app.post('/proxies', async (request, reply) => {
    const body = parseBody(proxyBody, request.body);
    const proxy = await registry.create(body);
    return reply.code(201).send(proxyJson(proxy));
  });

  app.post('/populate', async (request, reply) => {
    const body = parseBody(populateBody, request.body);
    const proxies = await registry.populate(body);
    return reply.code(201).send({ proxies: proxies.map(proxyJson) });
  });

  app.get<Named>('/proxies/:proxy', (request) => proxyJson(registry.get(request.params.proxy)));

  const updateProxy = async (request: { params: { proxy: string }; body: unknown }): Promise<ProxyWithToxicsJson> => {
    const proxy = registry.get(request.params.proxy);
    const { listen, upstream, enabled, kind, resilience } = parseBody(proxyBody, request.body);
    if (kind !== undefined && kind !== proxy.kind) throw badRequest(`kind: a proxy's kind cannot change (it is ${proxy.kind}); delete it and create it again`);
    return proxyJson(await registry.update(request.params.proxy, { listen, upstream, enabled, resilience }));
  };
  app.post<Named>('/proxies/:proxy', updateProxy);
  app.patch<Named>('/proxies/:proxy', updateProxy);

  app.delete<Named>('/proxies/:proxy', async (request, reply) => {
    await registry.remove(request.params.proxy);
    return reply.code(204).send();
  });

  app.get<Named>('/proxies/:proxy/toxics', (request) => registry.get(request.params.proxy).toxics.list().map(toxicToJson));

  // Toxiproxy answers 200 (not 201) to a created toxic; its Go client checks for exactly that.
  app.post<Named>('/proxies/:proxy/toxics', (request) => {
    const proxy = registry.get(request.params.proxy);
    return toxicToJson(proxy.toxics.add(parseBody(toxicBody, request.body)));
  });

  app.get<ToxicNamed>('/proxies/:proxy/toxics/:toxic', (request) =>
    toxicToJson(registry.get(request.params.proxy).toxics.get(request.params.toxic)),
  );

  const updateToxic = (request: { params: { proxy: string; toxic: string }; body: unknown }): ToxicJson => {
    const toxics = registry.get(request.params.proxy).toxics;
    toxics.get(request.params.toxic);
    return toxicToJson(toxics.update(request.params.toxic, parseBody(toxicPatchBody, request.body)));
  };
  app.post<ToxicNamed>('/proxies/:proxy/toxics/:toxic', updateToxic);
  app.patch<ToxicNamed>('/proxies/:proxy/toxics/:toxic', updateToxic);

  app.delete<ToxicNamed>('/proxies/:proxy/toxics/:toxic', (request, reply) => {
    registry.get(request.params.proxy).toxics.remove(request.params.toxic);
    return reply.code(204).send();
  });

  app.get('/version', () => ({ version: TOXIPROXY_API_VERSION, flotilla: FLOTILLA_VERSION }));

  return app;
}

/** Where and how to serve the API. */
export interface ToxiproxyApiOptions extends ToxiproxyAppOptions {
  /** 127.0.0.1 unless given. */
  host?: string;
  /** 8474 unless given; 0 picks a free port. */
  port?: number;
}

/** A listening API; dispose it (or `close()`) to stop listening. The proxies are the registry's to close. */
export interface StartedToxiproxyApi extends AsyncDisposable {
  /** `http://host:port`. */
  readonly url: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Serves the Toxiproxy-compatible API over `registry`. */
export async function startToxiproxyApi(options: ToxiproxyApiOptions): Promise<StartedToxiproxyApi> {
  const app = createToxiproxyApp(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? TOXIPROXY_DEFAULT_PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? TOXIPROXY_DEFAULT_PORT);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const close = async (): Promise<void> => {
    await app.close();
  };
  return { url, app, close, [Symbol.asyncDispose]: close };
}
