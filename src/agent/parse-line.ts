/**
 * One container log line → the parts of a log record. A line holding a JSON object (pino,
 * bunyan, zap, logrus, structlog…) gives severity, body, trace context, time and attributes;
 * any other line is the body as is, with no severity.
 *
 * Why stderr is not WARN: many programs (nginx, Python's logging, most CLIs) write all their
 * ordinary output to stderr; the stream stays visible as the `log.iostream` attribute.
 */
import type { AttributeValue } from './otlp-encode.js';
import { nsFromEpochNumber, nsFromRfc3339 } from './log-time.js';
import { severityOf, type Severity } from './severity.js';

/** The parts of a record one line gives. */
export interface ParsedLine {
  severity: Severity;
  body: string;
  /** When the line says when it happened; the Engine's time is used otherwise. */
  timeNs?: bigint;
  traceId?: string;
  spanId?: string;
  attributes: Record<string, AttributeValue>;
}

/**
 * The collector keeps attribute values up to 16 KiB; a longer one would get the whole record
 * rejected, so it is cut here and marked, keeping the rest of the record.
 */
export const MAX_ATTRIBUTE_LENGTH = 16 * 1024 - 1;
/** Attributes taken from one line, at most: a line is not a database. */
export const MAX_ATTRIBUTES = 128;

const LEVEL_KEYS = ['level', 'severity', 'lvl'] as const;
const BODY_KEYS = ['msg', 'message'] as const;
const TIME_KEYS = ['time', 'timestamp'] as const;
const TRACE_KEYS = ['trace_id', 'traceId'] as const;
const SPAN_KEYS = ['span_id', 'spanId'] as const;

/** Parses one line of a container's output. */
export function parseLogLine(text: string): ParsedLine {
  const object = jsonObjectOf(text);
  if (!object) return { severity: severityOf(undefined), body: text, attributes: {} };

  const used = new Set<string>();
  const take = (keys: readonly string[], accept: (value: unknown) => boolean): unknown => {
    for (const key of keys) {
      if (key in object && accept(object[key])) {
        used.add(key);
        return object[key];
      }
    }
    return undefined;
  };

  const severity = severityOf(take(LEVEL_KEYS, (value) => severityOf(value).number !== 0));
  const message = take(BODY_KEYS, (value) => typeof value === 'string');
  const timeNs = timeOf(take(TIME_KEYS, (value) => timeOf(value) !== undefined));
  const traceId = take(TRACE_KEYS, (value) => isHexId(value, 32));
  const spanId = take(SPAN_KEYS, (value) => isHexId(value, 16));
  // The collector (and OTLP) want both ids or neither; a lone one stays an attribute.
  const ids = typeof traceId === 'string' && typeof spanId === 'string' ? { traceId: traceId.toLowerCase(), spanId: spanId.toLowerCase() } : undefined;
  if (!ids) for (const key of [...TRACE_KEYS, ...SPAN_KEYS]) used.delete(key);

  const attributes: Record<string, AttributeValue> = {};
  let count = 0;
  for (const [key, value] of Object.entries(object)) {
    if (used.has(key) || value === null || value === undefined) continue;
    if (count++ >= MAX_ATTRIBUTES) break;
    attributes[key] = attributeOf(value);
  }
  return {
    severity,
    // Without a message field, the line itself is the body: nothing it said is lost.
    body: typeof message === 'string' ? message : text,
    ...(timeNs !== undefined && { timeNs }),
    ...ids,
    attributes,
  };
}

function jsonObjectOf(text: string): Record<string, unknown> | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function timeOf(value: unknown): bigint | undefined {
  if (typeof value === 'number') return nsFromEpochNumber(value);
  if (typeof value !== 'string') return undefined;
  const exact = nsFromRfc3339(value);
  if (exact !== undefined) return exact;
  // Other date texts Date understands (`2026-11-26 10:00:00Z`), to the millisecond.
  const ms = /\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
}

function isHexId(value: unknown, length: number): boolean {
  return typeof value === 'string' && value.length === length && /^[0-9a-f]+$/i.test(value) && !/^0+$/.test(value);
}

function attributeOf(value: unknown): AttributeValue {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_ATTRIBUTE_LENGTH ? `${text.slice(0, MAX_ATTRIBUTE_LENGTH - 1)}…` : text;
}
