/**
 * Records to rows and back. Times cross as BigInt nanoseconds going in (beyond Number's exact
 * range) and come out as decimal text (the queries select CAST(... AS TEXT)), so none is rounded.
 */
import { FlotillaError } from '../../core/errors.js';
import type { Attributes, LogRecord, SpanKind, SpanRecord } from '../types.js';

/** The largest value of a signed 64-bit SQLite INTEGER. */
const INT64_MAX = 9_223_372_036_854_775_807n;

/** A log row as inserted. */
export interface LogRow {
  time_ns: bigint;
  observed_ns: bigint;
  severity_number: number;
  severity_text: string;
  body: string;
  service: string;
  trace_id: string;
  span_id: string;
  attributes: string;
  resource: string;
  scope_name: string;
  scope_version: string;
}

/** A span row as inserted. */
export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: string;
  start_ns: bigint;
  end_ns: bigint;
  duration_ns: bigint;
  status: string;
  status_message: string;
  service: string;
  peer: string | null;
  attributes: string;
  resource: string;
  scope_name: string;
  scope_version: string;
}

/** Columns a query selects to rebuild a LogRecord (times already as text). */
export interface LogOut extends Omit<LogRow, 'time_ns' | 'observed_ns'> {
  time_ns: string;
  observed_ns: string;
}

/** Columns a query selects to rebuild a SpanRecord (times already as text). */
export interface SpanOut extends Omit<SpanRow, 'start_ns' | 'end_ns' | 'duration_ns' | 'peer'> {
  start_ns: string;
  end_ns: string;
}

/** The SELECT list that LogOut expects. */
export const LOG_COLUMNS = `CAST(time_ns AS TEXT) AS time_ns, CAST(observed_ns AS TEXT) AS observed_ns, severity_number, severity_text, body,
  service, trace_id, span_id, attributes, resource, scope_name, scope_version`;

/** The SELECT list that SpanOut expects. */
export const SPAN_COLUMNS = `trace_id, span_id, parent_span_id, name, kind, CAST(start_ns AS TEXT) AS start_ns, CAST(end_ns AS TEXT) AS end_ns,
  status, status_message, service, attributes, resource, scope_name, scope_version`;

/** Epoch nanoseconds from the contract's decimal text; a malformed value is refused, never stored as 0. */
export function nanos(text: string, what: string): bigint {
  if (!/^\d{1,19}$/.test(text) || BigInt(text) > INT64_MAX) {
    throw new FlotillaError('TELEMETRY_BAD_RECORD', `${what} is not a Unix time in nanoseconds: "${text.slice(0, 40)}"`, {
      hint: 'The OTLP decoder should have rejected this record; report it as a bug.',
    });
  }
  return BigInt(text);
}

/** The row for a log record; its time is the observed time when the event time is unspecified (0), as OTLP says. */
export function toLogRow(log: LogRecord): LogRow {
  const observed = nanos(log.observedTimeUnixNano, 'observedTimeUnixNano');
  const time = nanos(log.timeUnixNano, 'timeUnixNano');
  return {
    time_ns: time === 0n ? observed : time,
    observed_ns: observed,
    severity_number: log.severityNumber,
    severity_text: log.severityText,
    body: log.body,
    service: log.service,
    trace_id: log.traceId,
    span_id: log.spanId,
    attributes: JSON.stringify(log.attributes),
    resource: JSON.stringify(log.resource),
    scope_name: log.scope.name,
    scope_version: log.scope.version,
  };
}

/** The row for a span, with its duration and the peer it calls (see the schema). */
export function toSpanRow(span: SpanRecord): SpanRow {
  const start = nanos(span.startTimeUnixNano, 'startTimeUnixNano');
  const end = nanos(span.endTimeUnixNano, 'endTimeUnixNano');
  return {
    trace_id: span.traceId,
    span_id: span.spanId,
    parent_span_id: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    start_ns: start,
    end_ns: end,
    // A clock that went backwards between start and end gives 0, not a negative latency.
    duration_ns: end > start ? end - start : 0n,
    status: span.status,
    status_message: span.statusMessage,
    service: span.service,
    peer: span.kind === 'CLIENT' ? peerOf(span.attributes) : null,
    attributes: JSON.stringify(span.attributes),
    resource: JSON.stringify(span.resource),
    scope_name: span.scope.name,
    scope_version: span.scope.version,
  };
}

function peerOf(attributes: Attributes): string | null {
  for (const key of ['peer.service', 'db.system', 'server.address']) {
    const value = attributes[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

/** The LogRecord a row holds. */
export function fromLogRow(row: LogOut): LogRecord {
  return {
    timeUnixNano: row.time_ns,
    observedTimeUnixNano: row.observed_ns,
    severityNumber: row.severity_number,
    severityText: row.severity_text,
    body: row.body,
    service: row.service,
    traceId: row.trace_id,
    spanId: row.span_id,
    attributes: JSON.parse(row.attributes) as Attributes,
    resource: JSON.parse(row.resource) as Attributes,
    scope: { name: row.scope_name, version: row.scope_version },
  };
}

/** The SpanRecord a row holds. */
export function fromSpanRow(row: SpanOut): SpanRecord {
  return {
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id,
    name: row.name,
    kind: row.kind as SpanKind,
    startTimeUnixNano: row.start_ns,
    endTimeUnixNano: row.end_ns,
    status: row.status as SpanRecord['status'],
    statusMessage: row.status_message,
    service: row.service,
    attributes: JSON.parse(row.attributes) as Attributes,
    resource: JSON.parse(row.resource) as Attributes,
    scope: { name: row.scope_name, version: row.scope_version },
  };
}
