/**
 * The query API over the telemetry store, for the CLI, the dashboard and scripts. Every route but
 * /api/health asks for the serve token: logs can hold what their services should not have printed.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import * as z from 'zod';
import { FlotillaError } from '../core/errors.js';
import { FLOTILLA_VERSION } from '../core/version.js';
import { dependencyMap, findTraces, impact, red, searchLogs, traceSpans, MAX_LIMIT } from '../telemetry/query/index.js';
import type { TelemetryStore } from '../telemetry/store/index.js';
import { bearerMatches } from './auth.js';
import type { Ingest } from './ingest.js';
import { parseTimeExpression } from './time-expression.js';

export interface ApiRouteOptions {
  store: TelemetryStore;
  ingest: Ingest;
  token: string;
  now?: () => number;
  onError: (error: unknown) => void;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const limit = (fallback: number) => z.coerce.number().int().min(1).max(MAX_LIMIT).default(fallback);
const time = z.string().min(1).optional();
const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${length}}$`), `expected ${length} hex digits`);

const LogQuery = z.strictObject({
  service: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
  since: time,
  until: time,
  grep: z.string().min(1).max(1000).optional(),
  level: z.enum(LEVELS).optional(),
  traceId: hex(32).optional(),
  limit: limit(100),
});
const TraceQuery = z.strictObject({
  service: z.string().min(1).optional(),
  operation: z.string().min(1).optional(),
  minDurationMs: z.coerce.number().nonnegative().optional(),
  error: z.enum(['true', 'false']).optional(),
  since: time,
  until: time,
  limit: limit(20),
});
const MapQuery = z.strictObject({
  since: z.string().min(1).default('15m'),
  until: time,
  service: z.string().min(1).optional(),
});

/** A bad query parameter: 400 with the parameter named. */
class QueryError extends FlotillaError {
  override readonly kind = 'usage';
}

function parse<T>(schema: z.ZodType<T>, query: unknown): T {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `query parameter ${issue.path.join('.')}` : 'query';
  throw new QueryError('QUERY_INVALID', `${where}: ${issue?.message ?? 'invalid'}`);
}

export function registerApiRoutes(app: FastifyInstance, options: ApiRouteOptions): void {
  const { store, ingest, token } = options;
  const now = options.now ?? Date.now;
  const window = (query: { since?: string | undefined; until?: string | undefined }) => {
    const at = now();
    return {
      ...(query.since === undefined ? {} : { since: parseTimeExpression(query.since, 'since', at) }),
      ...(query.until === undefined ? {} : { until: parseTimeExpression(query.until, 'until', at) }),
    };
  };

  app.get('/api/health', (_request, reply) => reply.send({ status: 'ok', version: FLOTILLA_VERSION }));

  app.register((api, _options, done) => {
    api.addHook('onRequest', async (request, reply) => {
      if (!bearerMatches(request.headers.authorization, token)) {
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'UNAUTHORIZED', message: 'this API needs the token of `flotilla serve` (Authorization: Bearer …)' });
      }
      return undefined;
    });
    api.setErrorHandler((error, _request, reply) => sendApiError(reply, error, options.onError));

    api.get('/api/stats', (_request, reply) => reply.send({ store: store.stats(), ingest: ingest.counters() }));

    api.get('/api/logs', (request, reply) => {
      const query = parse(LogQuery, request.query);
      const logs = searchLogs(store, {
        ...window(query),
        ...(query.service ? { service: query.service } : {}),
        ...(query.project ? { project: query.project } : {}),
        ...(query.grep ? { text: query.grep } : {}),
        ...(query.level ? { level: query.level } : {}),
        ...(query.traceId ? { traceId: query.traceId } : {}),
        limit: query.limit,
      });
      return reply.send({ logs });
    });

    api.get('/api/traces', (request, reply) => {
      const query = parse(TraceQuery, request.query);
      const traces = findTraces(store, {
        ...window(query),
        ...(query.service ? { service: query.service } : {}),
        ...(query.operation ? { operation: query.operation } : {}),
        ...(query.minDurationMs !== undefined ? { minDurationMs: query.minDurationMs } : {}),
        ...(query.error !== undefined ? { error: query.error === 'true' } : {}),
        limit: query.limit,
      });
      return reply.send({ traces });
    });

    api.get('/api/traces/:traceId', (request, reply) => {
      const { traceId } = parse(z.strictObject({ traceId: hex(32) }), request.params);
      const spans = traceSpans(store, traceId);
      if (spans.length === 0) return reply.code(404).send({ error: 'TRACE_NOT_FOUND', message: `no span of trace ${traceId} is stored` });
      return reply.send({ traceId: traceId.toLowerCase(), spans });
    });

    api.get('/api/map', (request, reply) => {
      const query = parse(MapQuery, request.query);
      const at = now();
      const span = { since: parseTimeExpression(query.since, 'since', at), until: query.until === undefined ? at : parseTimeExpression(query.until, 'until', at) };
      if (span.since >= span.until) throw new QueryError('QUERY_INVALID', 'query parameter since: the window is empty (since is not before until)');
      return reply.send({
        window: span,
        edges: dependencyMap(store, span),
        red: red(store, span),
        ...(query.service ? { impact: { service: query.service, entryPoints: impact(store, query.service, span) } } : {}),
      });
    });
    done();
  });
}

function sendApiError(reply: FastifyReply, error: unknown, onError: (error: unknown) => void): FastifyReply {
  if (error instanceof FlotillaError && error.kind === 'usage') return reply.code(400).send({ error: error.code, message: error.message });
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return reply.code(status).send({ error: 'BAD_REQUEST', message: (error as Error).message });
  // The details go to the server's output, not to the client.
  onError(error);
  return reply.code(500).send({ error: 'INTERNAL', message: 'internal error in the collector (see its output)' });
}
