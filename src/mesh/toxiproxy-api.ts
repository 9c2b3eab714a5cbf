/**
 * An HTTP API compatible with Toxiproxy's (v2), so existing Toxiproxy clients drive Flotilla's mesh
 * unchanged: same routes, JSON shapes, status codes and `{"error", "status"}` errors. It binds
 * 127.0.0.1:8474 by default and, as Toxiproxy does, refuses browsers (a web page could otherwise
 * POST to it); given a token (in a proxy container), it also refuses requests without it.
 * Message-level faults arrive through the same toxic routes once the catalog has them. It runs in
 * every proxy container, so it is a dozen routes on node:http, not a web framework: the process
 * stays small (bench/README.md, mesh-proxy memory).
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import * as z from 'zod';
import { FLOTILLA_VERSION } from '../core/version.js';
import { errorAnswer, errorJson, parseBody, populateBody, proxyBody, requestGuard, type ErrorJson } from './api-http.js';
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

/** Options for the API's request handler. */
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

/** Bodies above this are refused with 413, as Fastify's `bodyLimit` did. */
const BODY_LIMIT = 1024 * 1024;

/** What a route answers: a status and JSON, none for 204. */
interface Answer {
  status: number;
  json?: unknown;
}

/** One route: a method, the path's segments (`:name` takes one non-empty segment), the handler. */
interface Route {
  method: string;
  segments: string[];
  handle(params: Record<string, string>, body: string | undefined): Answer | Promise<Answer>;
}

/** A 4xx that the error answer passes on as it is (Fastify's errors carried `statusCode` the same way). */
class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The routes of Toxiproxy's API over `registry`. */
function toxiproxyRoutes(registry: ProxyRegistry): Route[] {
  const ok = (json: unknown): Answer => ({ status: 200, json });
  const route = (method: string, path: string, handle: Route['handle']): Route => ({ method, segments: path.split('/').slice(1), handle });

  const updateProxy: Route['handle'] = async ({ proxy: name = '' }, body) => {
    const proxy = registry.get(name);
    const { listen, upstream, enabled, kind, resilience } = parseBody(proxyBody, body);
    if (kind !== undefined && kind !== proxy.kind) throw badRequest(`kind: a proxy's kind cannot change (it is ${proxy.kind}); delete it and create it again`);
    return ok(proxyJson(await registry.update(name, { listen, upstream, enabled, resilience })));
  };
  const updateToxic: Route['handle'] = ({ proxy = '', toxic = '' }, body) => {
    const toxics = registry.get(proxy).toxics;
    toxics.get(toxic);
    return ok(toxicToJson(toxics.update(toxic, parseBody(toxicPatchBody, body))));
  };

  return [
    route('POST', '/reset', async () => {
      await registry.reset();
      return { status: 204 };
    }),
    route('GET', '/proxies', () => {
      const result: Record<string, ProxyWithToxicsJson> = {};
      for (const proxy of registry.list()) result[proxy.name] = proxyJson(proxy);
      return ok(result);
    }),
    route('POST', '/proxies', async (_params, body) => ({ status: 201, json: proxyJson(await registry.create(parseBody(proxyBody, body))) })),
    route('POST', '/populate', async (_params, body) => ({ status: 201, json: { proxies: (await registry.populate(parseBody(populateBody, body))).map(proxyJson) } })),
    route('GET', '/proxies/:proxy', ({ proxy = '' }) => ok(proxyJson(registry.get(proxy)))),
    route('POST', '/proxies/:proxy', updateProxy),
    route('PATCH', '/proxies/:proxy', updateProxy),
    route('DELETE', '/proxies/:proxy', async ({ proxy = '' }) => {
      await registry.remove(proxy);
      return { status: 204 };
    }),
    route('GET', '/proxies/:proxy/toxics', ({ proxy = '' }) => ok(registry.get(proxy).toxics.list().map(toxicToJson))),
    // Toxiproxy answers 200 (not 201) to a created toxic; its Go client checks for exactly that.
    route('POST', '/proxies/:proxy/toxics', ({ proxy = '' }, body) => ok(toxicToJson(registry.get(proxy).toxics.add(parseBody(toxicBody, body))))),
    route('GET', '/proxies/:proxy/toxics/:toxic', ({ proxy = '', toxic = '' }) => ok(toxicToJson(registry.get(proxy).toxics.get(toxic)))),
    route('POST', '/proxies/:proxy/toxics/:toxic', updateToxic),
    route('PATCH', '/proxies/:proxy/toxics/:toxic', updateToxic),
    route('DELETE', '/proxies/:proxy/toxics/:toxic', ({ proxy = '', toxic = '' }) => {
      registry.get(proxy).toxics.remove(toxic);
      return { status: 204 };
    }),
    route('GET', '/version', () => ok({ version: TOXIPROXY_API_VERSION, flotilla: FLOTILLA_VERSION })),
  ];
}

/** The route of a request and its decoded parameters; HEAD takes the GET routes. Undefined: 404. */
function findRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const segments = path.split('/').slice(1);
  const wanted = method === 'HEAD' ? 'GET' : method;
  for (const route of routes) {
    if (route.method !== wanted || route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = route.segments.every((expected, i) => {
      const segment = segments[i] ?? '';
      if (!expected.startsWith(':')) return segment === expected;
      if (segment === '') return false;
      try {
        params[expected.slice(1)] = decodeURIComponent(segment);
      } catch {
        throw new HttpError(400, `'${segment}' is not a valid url component`);
      }
      return true;
    });
    if (matches) return { route, params };
  }
  return undefined;
}

/** The body as text, whatever its content type (clients differ); a 413 past BODY_LIMIT. */
async function readBody(request: IncomingMessage): Promise<string> {
  if (Number(request.headers['content-length'] ?? 0) > BODY_LIMIT) throw new HttpError(413, 'Request body is too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new HttpError(413, 'Request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, json?: unknown): void {
  if (json === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(json);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

/**
 * The request handler serving Toxiproxy's routes over `registry`: the guards first (for every
 * request, known route or not), then the route, with errors as Toxiproxy's JSON and 404 for unknown
 * routes. Bodies are read on POST and PATCH only.
 */
export function createToxiproxyApp(options: ToxiproxyAppOptions): RequestListener {
  const routes = toxiproxyRoutes(options.registry);
  const refusal = requestGuard(options);
  const answer = async (request: IncomingMessage): Promise<Answer> => {
    const refused = refusal(request.headers);
    if (refused) return { status: refused.status, json: refused };
    try {
      const url = request.url ?? '/';
      const query = url.indexOf('?');
      const found = findRoute(routes, request.method ?? 'GET', query === -1 ? url : url.slice(0, query));
      if (!found) return { status: 404, json: errorJson(404, 'not found') };
      const body = request.method === 'POST' || request.method === 'PATCH' ? await readBody(request) : undefined;
      return await found.route.handle(found.params, body);
    } catch (error) {
      const json: ErrorJson = errorAnswer(error, options.onInternalError);
      return { status: json.status, json };
    }
  };
  return (request, response) => {
    answer(request)
      .then(({ status, json }) => send(response, status, json))
      .catch((error: unknown) => {
        // Only a bug gets here (an answer that cannot be serialised): the request fails, the process lives.
        response.destroy();
        options.onInternalError?.(error);
      });
  };
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
  readonly server: Server;
  close(): Promise<void>;
}

/** Serves the Toxiproxy-compatible API over `registry`. */
export async function startToxiproxyApi(options: ToxiproxyApiOptions): Promise<StartedToxiproxyApi> {
  const server = createServer(createToxiproxyApp(options));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? TOXIPROXY_DEFAULT_PORT }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? TOXIPROXY_DEFAULT_PORT);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // Keep-alive connections of clients (the control plane) would hold close() open: they are ended with it.
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  return { url, server, close, [Symbol.asyncDispose]: close };
}
