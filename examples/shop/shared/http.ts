import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

/** Largest request body a service accepts. */
const MAX_BODY_BYTES = 16 * 1024;

/** How long a shutdown may wait for open requests before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/** An error that becomes an HTTP response: its status and `{ error: code, message, ... }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What a handler sees of a request. */
export interface Request {
  readonly method: string;
  readonly path: string;
  /** Values of the `:name` segments of the route's path. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string's parameters. */
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The caller's x-request-id, or a new one; sent back and passed on downstream. */
  readonly requestId: string;
  /** Reads and parses the JSON body (400 when malformed, 413 when too large, 415 when not JSON). */
  json(): Promise<unknown>;
}

/** What a handler answers: a status, a JSON body and optional extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One route: a method, a path such as `/orders/:id`, and its handler. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: (req: Request) => Promise<Reply> | Reply;
  /**
   * `false` for health checks: no span for the request, nor for anything it calls, so the
   * checks Docker makes every few seconds do not crowd the traces and the dependency map.
   */
  traced?: boolean;
}

/** The tracer of the shop's HTTP servers: a no-op until shared/telemetry.ts starts the SDK. */
const tracer = trace.getTracer('shop-http');

/** `trace_id` and `span_id` of a span, for a log line; nothing when it is not part of a trace. */
export function traceFields(span: Span | undefined): { trace_id?: string; span_id?: string } {
  const ids = span?.spanContext();
  return ids && trace.isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
}

/** Writes one JSON line to stdout: the services' only log format, with the active span's trace ids. */
export function logLine(service: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service, ...traceFields(trace.getActiveSpan()), ...fields })}\n`);
}

interface CompiledRoute extends Route {
  segments: string[];
}

function matchPath(segments: string[], path: string): Record<string, string> | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const part = parts[i] ?? '';
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(part);
      } catch {
        return undefined;
      }
    } else if (segment !== part) {
      return undefined;
    }
  }
  return params;
}

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** The path and query of a request target; undefined when it is not a URL at all. */
function urlOf(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', 'send the body as JSON (content-type: application/json)');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(413, 'body_too_large', `the body must be at most ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', 'the body is empty; send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
  }
}

function send(res: ServerResponse, requestId: string, reply: Reply): void {
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
  });
  res.end(body);
}

/** What `createHttpServer` needs: the service's name (for its logs) and its routes. */
export interface ServerOptions {
  name: string;
  routes: Route[];
  /** Where each log line goes; `logLine` by default (tests pass their own). */
  log?: (fields: Record<string, unknown>) => void;
}

/** A service's name, port, routes, and what to close after the server on shutdown. */
export interface ServiceOptions extends ServerOptions {
  port: number;
  onShutdown?: () => Promise<void>;
}

/**
 * Creates (without starting) an HTTP server that routes requests to `routes`, answers in JSON
 * (HttpErrors become their status; anything else a 500), and logs one JSON line per request.
 * `startService` listens with it; tests listen on port 0.
 */
export function createHttpServer(options: ServerOptions): Server {
  const { name } = options;
  const log = options.log ?? ((fields: Record<string, unknown>): void => logLine(name, fields));
  const routes: CompiledRoute[] = options.routes.map((r) => ({ ...r, segments: r.path.split('/').filter((p) => p !== '') }));

  /** The route for a request, or the HttpError (404, 405) that answers it. */
  function route(method: string, path: string): { route: CompiledRoute; params: Record<string, string> } | HttpError {
    let pathMatched = false;
    for (const candidate of routes) {
      const params = matchPath(candidate.segments, path);
      if (params === undefined) continue;
      pathMatched = true;
      if (candidate.method === method) return { route: candidate, params };
    }
    if (pathMatched) return new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}`);
    return new HttpError(404, 'not_found', `no route for ${method} ${path}`);
  }

  return createServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers);
    const method = req.method ?? 'GET';
    const url = urlOf(req.url);
    const path = url?.pathname;
    const found = path === undefined ? new HttpError(400, 'invalid_url', 'the request URL is not valid') : route(method, path);
    const { span, spanContext } = serverSpan(req, method, path ?? '', found instanceof HttpError ? undefined : found.route);
    res.on('finish', () => {
      log({
        level: 'info',
        msg: 'request',
        method: req.method,
        path: req.url,
        status: res.statusCode,
        durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        requestId,
        ...traceFields(span),
      });
    });
    // After 'finish', or when the client went away first.
    res.on('close', () => endServerSpan(span, res));
    const answer = context.with(spanContext, async (): Promise<Reply> => {
      if (found instanceof HttpError) throw found;
      return await found.route.handler({ method, path: path ?? '', params: found.params, query: url?.searchParams ?? new URLSearchParams(), headers: req.headers, requestId, json: () => readJson(req) });
    });
    answer.then(
      (reply) => send(res, requestId, reply),
      (error: unknown) => {
        if (error instanceof HttpError) {
          send(res, requestId, { status: error.status, body: { error: error.code, message: error.message, ...error.details } });
          return;
        }
        span?.recordException(error instanceof Error ? error : String(error));
        log({ level: 'error', msg: 'unhandled error', requestId, error: String(error), ...traceFields(span) });
        send(res, requestId, { status: 500, body: { error: 'internal', message: 'internal error' } });
      },
    );
  });
}

/**
 * The SERVER span of a request, a child of the caller's span when `traceparent` names one, and
 * the context its handler runs in. Named `METHOD /route/:pattern` (just `METHOD` when no route
 * matched, so unknown paths do not each make a name). Untraced routes get no span and run with
 * tracing suppressed.
 */
function serverSpan(req: IncomingMessage, method: string, path: string, route: Route | undefined): { span?: Span; spanContext: Context } {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  if (route?.traced === false) return { spanContext: suppressTracing(parent) };
  const userAgent = req.headers['user-agent'];
  const span = tracer.startSpan(
    route ? `${method} ${route.path}` : method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'url.path': path,
        'url.scheme': 'http',
        'network.protocol.version': req.httpVersion,
        ...(route && { 'http.route': route.path }),
        ...(req.socket.remoteAddress !== undefined && { 'client.address': req.socket.remoteAddress }),
        ...(userAgent !== undefined && { 'user_agent.original': userAgent }),
      },
    },
    parent,
  );
  return { span, spanContext: trace.setSpan(parent, span) };
}

/** Ends a SERVER span with the status sent: an error for 5xx (the server failed), not for 4xx (the caller did). */
function endServerSpan(span: Span | undefined, res: ServerResponse): void {
  if (!span) return;
  if (!res.writableFinished) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the answer was sent' });
  } else {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) {
      span.setAttribute('error.type', String(res.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  span.end();
}

/**
 * Starts an HTTP service that logs one JSON line per request and shuts down gracefully on
 * SIGTERM or SIGINT: it stops accepting connections, lets open requests finish, runs
 * `onShutdown` (close pools), and exits 0 — or 1 if that takes longer than 10 seconds.
 */
export function startService(options: ServiceOptions): void {
  const { name } = options;
  const server = createHttpServer(options);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logLine(name, { level: 'info', msg: 'shutting down', signal });
    setTimeout(() => {
      logLine(name, { level: 'error', msg: 'shutdown timed out; exiting' });
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    server.close(() => {
      (options.onShutdown?.() ?? Promise.resolve()).then(
        () => {
          logLine(name, { level: 'info', msg: 'stopped' });
          process.exit(0);
        },
        (error: unknown) => {
          logLine(name, { level: 'error', msg: 'shutdown failed', error: String(error) });
          process.exit(1);
        },
      );
    });
    // Idle keep-alive connections would hold close() open until they time out.
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  server.listen(options.port, () => {
    logLine(name, { level: 'info', msg: 'listening', port: options.port });
  });
}
