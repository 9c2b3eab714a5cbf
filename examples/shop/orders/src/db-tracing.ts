/**
 * CLIENT spans for the orders service's PostgreSQL queries, made by hand with the OpenTelemetry
 * API (the pg instrumentation patches `require`, which a bundled ESM service never calls). Each
 * span names the database as a peer (`peer.service`, `db.system`), so the dependency map shows
 * orders → db although PostgreSQL sends no spans of its own. Query texts are recorded as written:
 * the store passes every value as a parameter ($1, $2…), so no value reaches a span.
 */
import { SpanKind, SpanStatusCode, context, trace, type Attributes } from '@opentelemetry/api';
import type { QueryResult, QueryResultRow } from 'pg';

/** Something that runs a query: a pool, or a client checked out of one (inside a transaction). */
export interface Queryable {
  query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/** The database as the spans name it. */
export interface DbPeer {
  /** `peer.service`: the database's service name, as the callers know it. */
  service: string;
  /** `db.namespace`: the database name. */
  database?: string;
  host?: string;
  port?: number;
}

/**
 * The database pg connects to, from the same PG* variables pg reads; `peer.service` is the host
 * name (`db`, the Compose service), else `db`.
 */
export function dbPeerFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): DbPeer {
  const port = Number(env['PGPORT'] ?? '5432');
  return {
    service: env['PGHOST'] || 'db',
    ...(env['PGDATABASE'] && { database: env['PGDATABASE'] }),
    ...(env['PGHOST'] && { host: env['PGHOST'] }),
    ...(Number.isInteger(port) && { port }),
  };
}

const tracer = trace.getTracer('shop-db');

/** Runs one query in a CLIENT span: `SELECT orders`, with the statement and the database as attributes. */
export async function tracedQuery<R extends QueryResultRow>(peer: DbPeer, db: Queryable, text: string, values?: unknown[]): Promise<QueryResult<R>> {
  const statement = text.replace(/\s+/g, ' ').trim();
  const operation = /^\w+/.exec(statement)?.[0].toUpperCase() ?? 'QUERY';
  const table = /\b(?:FROM|INTO|UPDATE|TABLE(?: IF NOT EXISTS)?)\s+([A-Za-z_][\w.]*)/i.exec(statement)?.[1];
  const attributes: Attributes = {
    'db.system': 'postgresql',
    'db.system.name': 'postgresql',
    'db.operation.name': operation,
    'db.query.text': statement,
    'peer.service': peer.service,
    ...(table !== undefined && { 'db.collection.name': table }),
    ...(peer.database !== undefined && { 'db.namespace': peer.database }),
    ...(peer.host !== undefined && { 'server.address': peer.host }),
    ...(peer.port !== undefined && { 'server.port': peer.port }),
  };
  const span = tracer.startSpan(table === undefined ? operation : `${operation} ${table}`, { kind: SpanKind.CLIENT, attributes }, context.active());
  try {
    return await (values === undefined ? db.query<R>(text) : db.query<R>(text, values));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    span.setAttribute('error.type', typeof code === 'string' ? code : error instanceof Error ? error.name : 'Error');
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** Runs `work` in an INTERNAL span, so the queries it makes share one trace (the migration at start-up). */
export async function inSpan<T>(name: string, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
