/**
 * What the mesh's two Toxiproxy-compatible APIs share — a proxy container's (toxiproxy-api.ts, on
 * node:http, so the proxy process loads no web framework) and the control plane's (control-plane.ts,
 * on Fastify): bodies read as text and parsed per route, errors as Toxiproxy's `{"error", "status"}`
 * JSON, the guards, and the proxy body schema.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import * as z from 'zod';
import { badRequest, MeshError } from './errors.js';
import { describeIssues } from './toxic-collection.js';

/** The environment variable a proxy container finds its API's token in (`up` sets it; never a label, never hashed). */
export const MESH_TOKEN_ENV = 'FLOTILLA_MESH_TOKEN';

/** The header a proxy container's API requires when it was given a token (the control plane sends it). */
export const MESH_TOKEN_HEADER = 'x-flotilla-mesh-token';

// Unknown top-level keys are ignored, as Toxiproxy's JSON decoder does; types are checked.
/** A proxy as a client sends it (create, update, populate). */
export const proxyBody = z.object({
  name: z.string().optional(),
  listen: z.string().optional(),
  upstream: z.string().optional(),
  enabled: z.boolean().optional(),
  // Extensions: Toxiproxy clients never send them, so their proxies stay TCP with default settings.
  kind: z.string().optional(),
  resilience: z.unknown().optional(),
});

/** A proxy body, parsed. */
export type ProxyBody = z.infer<typeof proxyBody>;

/** `POST /populate`'s body: a list of proxies. */
export const populateBody = z.array(proxyBody);

/** Parses a JSON body and checks it against `schema`, with Toxiproxy's `bad request body` errors. */
export function parseBody<T>(schema: z.ZodType<T>, raw: unknown): T {
  const text = typeof raw === 'string' ? raw : '';
  if (text.trim() === '') throw badRequest('empty body, expected JSON');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(error instanceof Error ? error.message : String(error));
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(describeIssues(parsed.error.issues, ''));
  return parsed.data;
}

/** Toxiproxy's error JSON, with Flotilla's `hint` when there is one. */
export interface ErrorJson {
  error: string;
  status: number;
  hint?: string;
}

/** The error JSON of `status` and `message`. */
export function errorJson(status: number, message: string, hint?: string): ErrorJson {
  return { error: message, status, ...(hint ? { hint } : {}) };
}

/** Answers Toxiproxy's error JSON, with Flotilla's `hint` when there is one. */
export function sendError(reply: FastifyReply, status: number, message: string, hint?: string): FastifyReply {
  return reply.code(status).type('application/json').send(errorJson(status, message, hint));
}

/** How the APIs guard and answer. */
export interface ApiAppGuards {
  /** Refuse requests carrying an `Origin` header (any browser request but a simple GET does). */
  refuseCrossOrigin?: boolean;
  /** Require `x-flotilla-mesh-token: <token>` on every request (403 without it). */
  token?: string | undefined;
  /** Called with errors that are not MeshErrors (answered 500). */
  onInternalError?: ((error: unknown) => void) | undefined;
}

/** The guards of `prepareApiApp`, for any server: `refusal(headers)` is the 403 to answer, or undefined to serve the request. */
export function requestGuard(guards: ApiAppGuards): (headers: IncomingHttpHeaders) => ErrorJson | undefined {
  const expected = guards.token === undefined ? undefined : Buffer.from(guards.token);
  return (headers) => {
    // Toxiproxy's CSRF guard: the API takes no token from its clients on loopback, so browsers
    // (a web page POSTing to 127.0.0.1) are refused.
    if ((headers['user-agent'] ?? '').startsWith('Mozilla/')) return errorJson(403, 'User agent not allowed');
    if (guards.refuseCrossOrigin && headers.origin !== undefined) return errorJson(403, 'cross-origin requests are not allowed');
    if (expected && !tokenMatches(headers[MESH_TOKEN_HEADER], expected)) {
      return errorJson(403, 'missing or wrong mesh token', 'This is a mesh proxy container’s own API; change its faults through the control plane (`flotilla serve`, 127.0.0.1:8474).');
    }
    return undefined;
  };
}

/** The answer to an error a route threw: MeshErrors with their status, HTTP errors' 4xx as they are (a body too large), the rest 500. */
export function errorAnswer(error: unknown, onInternalError?: (error: unknown) => void): ErrorJson {
  if (error instanceof MeshError) return errorJson(error.status, error.message, error.hint);
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return errorJson(status, (error as Error).message);
  onInternalError?.(error);
  return errorJson(500, error instanceof Error ? error.message : String(error));
}

/**
 * Sets up a Fastify app as a Toxiproxy-compatible API: bodies as text whatever their content type
 * (clients differ), the guards, the error handler (MeshErrors with their status, Fastify's 4xx as
 * they are, the rest 500) and a 404 for unknown routes.
 */
export function prepareApiApp(app: FastifyInstance, guards: ApiAppGuards): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const refusal = requestGuard(guards);
  app.addHook('onRequest', async (request, reply) => {
    const refused = refusal(request.headers);
    return refused ? sendError(reply, refused.status, refused.error, refused.hint) : undefined;
  });

  app.setErrorHandler((error, _request, reply) => {
    const answer = errorAnswer(error, guards.onInternalError);
    return sendError(reply, answer.status, answer.error, answer.hint);
  });

  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'not found'));
}

/** Compares in constant time, so the answer's timing says nothing about how much of a guess was right. */
function tokenMatches(given: string | string[] | undefined, expected: Buffer): boolean {
  if (typeof given !== 'string') return false;
  const buffer = Buffer.from(given);
  return buffer.length === expected.length && timingSafeEqual(buffer, expected);
}
