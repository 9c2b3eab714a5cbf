/** Trace search and the spans of one trace. */
import type { TelemetryStore } from '../store/telemetry-store.js';
import { fromSpanRow, SPAN_COLUMNS, type SpanOut } from '../store/rows.js';
import type { SpanRecord } from '../types.js';
import { checkedLimit, nsToMs, windowConditions, type TimeWindow } from './filters.js';

/**
 * What to look for. As in Jaeger, service, operation, minDurationMs and `error: true` apply to one
 * and the same span of the trace; `error: false` asks for traces with no failed span at all.
 */
export interface TraceSearch extends TimeWindow {
  service?: string;
  /** The span name. */
  operation?: string;
  minDurationMs?: number;
  error?: boolean;
  limit: number;
}

/** One trace found, summarised over all its stored spans. */
export interface TraceSummary {
  traceId: string;
  /** The root span (no parent); null while it has not arrived, or was evicted. */
  root: { service: string; operation: string } | null;
  /** Start of the earliest span, epoch nanoseconds as decimal text. */
  startTimeUnixNano: string;
  /** From the earliest start to the latest end. */
  durationMs: number;
  spans: number;
  errors: number;
  /** The services taking part, sorted. */
  services: string[];
}

interface SummaryRow {
  trace_id: string;
  start_ns: string;
  duration_ns: number;
  spans: number;
  errors: number;
  services: string;
  root_service: string | null;
  root_name: string | null;
}

/** Traces with a span matching `search`, most recent match first. */
export function findTraces(store: TelemetryStore, search: TraceSearch): TraceSummary[] {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, value: unknown): void => {
    where.push(condition);
    params.push(value);
  };
  if (search.service !== undefined) add('service = ?', search.service);
  if (search.operation !== undefined) add('name = ?', search.operation);
  windowConditions('start_ns', search, where, params);
  if (search.minDurationMs !== undefined) add('duration_ns >= ?', Math.ceil(search.minDurationMs * 1e6));
  if (search.error === true) where.push("status = 'ERROR'");
  if (search.error === false) where.push("NOT EXISTS (SELECT 1 FROM spans e WHERE e.trace_id = spans.trace_id AND e.status = 'ERROR')");
  params.push(checkedLimit(search.limit));
  const sql = `
    WITH hits AS (
      SELECT trace_id, MAX(start_ns) AS at FROM spans ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      GROUP BY trace_id ORDER BY at DESC, trace_id LIMIT ?
    )
    SELECT h.trace_id, CAST(MIN(s.start_ns) AS TEXT) AS start_ns, MAX(s.end_ns) - MIN(s.start_ns) AS duration_ns,
      COUNT(*) AS spans, SUM(s.status = 'ERROR') AS errors, json_group_array(DISTINCT s.service) AS services,
      (SELECT r.service FROM spans r WHERE r.trace_id = h.trace_id AND r.parent_span_id = '' LIMIT 1) AS root_service,
      (SELECT r.name FROM spans r WHERE r.trace_id = h.trace_id AND r.parent_span_id = '' LIMIT 1) AS root_name
    FROM hits h JOIN spans s ON s.trace_id = h.trace_id
    GROUP BY h.trace_id ORDER BY MAX(h.at) DESC, h.trace_id`;
  const rows = store.read((prepare) => prepare(sql).all(...params) as SummaryRow[]);
  return rows.map((row) => ({
    traceId: row.trace_id,
    root: row.root_service === null || row.root_name === null ? null : { service: row.root_service, operation: row.root_name },
    startTimeUnixNano: row.start_ns,
    durationMs: nsToMs(row.duration_ns),
    spans: row.spans,
    errors: row.errors,
    services: (JSON.parse(row.services) as string[]).sort(),
  }));
}

/** Every stored span of a trace, by start time (parents before children when they start together): the makings of a span tree. */
export function traceSpans(store: TelemetryStore, traceId: string): SpanRecord[] {
  const sql = `SELECT ${SPAN_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_ns, parent_span_id <> '', id`;
  return store.read((prepare) => (prepare(sql).all(traceId.toLowerCase()) as SpanOut[]).map(fromSpanRow));
}
