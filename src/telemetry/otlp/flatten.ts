/**
 * Raw OTLP → Flotilla records. Everything that can make one record unacceptable is checked
 * here, for both wire formats: a bad record is left out and counted (OTLP partial success),
 * the rest of the request goes on.
 */
import type { AttributeValue, Attributes, Decoded, LogRecord, SpanKind, SpanRecord } from '../types.js';
import type { DecodeLimits } from './limits.js';
import type { AnyValue, KeyValue, RawLogRecord, RawResourceGroup, RawScope, RawSpan } from './model.js';

/** Why one record was left out; thrown by a record's flattening, caught by flattenGroups. */
export class RecordRejected extends Error {}

/** Flattens a logs request, rejecting bad records one by one. */
export function flattenLogs(groups: RawResourceGroup<RawLogRecord>[], limits: DecodeLimits): Decoded<LogRecord> {
  return flattenGroups(groups, limits, flattenLog);
}

/** Flattens a traces request, rejecting bad spans one by one. */
export function flattenSpans(groups: RawResourceGroup<RawSpan>[], limits: DecodeLimits): Decoded<SpanRecord> {
  return flattenGroups(groups, limits, flattenSpan);
}

/** What a record's flattening knows of where it came from. */
export interface Context {
  resource: Attributes;
  service: string;
  scope: { name: string; version: string };
  limits: DecodeLimits;
}

/** What the rejection message calls the records (OTLP metrics count "data points"). */
export interface RecordNoun {
  one: string;
  many: string;
}

/** Flattens every record of every group, leaving out and counting those `flattenRecord` rejects. */
export function flattenGroups<R, T>(
  groups: RawResourceGroup<R>[], limits: DecodeLimits, flattenRecord: (raw: R, context: Context) => T,
  noun: RecordNoun = { one: 'record', many: 'records' },
): Decoded<T> {
  const records: T[] = [];
  const reasons = new Map<string, number>();
  const reject = (reason: string, count: number): void => {
    if (count > 0) reasons.set(reason, (reasons.get(reason) ?? 0) + count);
  };
  for (const group of groups) {
    let resource: Attributes;
    try {
      resource = flattenAttributes(group.resource, limits, 'resource attribute');
    } catch (error) {
      // A resource that cannot be kept takes every record under it along.
      if (!(error instanceof RecordRejected)) throw error;
      reject(error.message, group.scopes.reduce((n, s) => n + s.records.length, 0));
      continue;
    }
    const service = typeof resource['service.name'] === 'string' && resource['service.name'] !== ''
      ? resource['service.name']
      : 'unknown_service';
    for (const { scope, records: raws } of group.scopes) {
      const context: Context = { resource, service, scope: flattenScope(scope), limits };
      for (const raw of raws) {
        try {
          records.push(flattenRecord(raw, context));
        } catch (error) {
          if (!(error instanceof RecordRejected)) throw error;
          reject(error.message, 1);
        }
      }
    }
  }
  let rejected = 0;
  for (const count of reasons.values()) rejected += count;
  return { records, rejected, errorMessage: describeRejections(reasons, rejected, noun) };
}

function describeRejections(reasons: Map<string, number>, rejected: number, noun: RecordNoun): string {
  if (rejected === 0) return '';
  const shown = [...reasons].slice(0, 5).map(([reason, count]) => `${reason} (${count})`);
  const more = reasons.size > 5 ? `; and ${reasons.size - 5} other reasons` : '';
  return `${rejected} ${rejected === 1 ? noun.one : noun.many} rejected: ${shown.join('; ')}${more}`;
}

/** The largest time the store's signed 64-bit nanoseconds hold (the year 2262). */
export const INT64_MAX = 9_223_372_036_854_775_807n;

/** Refuses a time the store cannot hold: one such record must not fail the whole batch at the store. */
function checkTime(value: bigint, what: string): string {
  if (value > INT64_MAX) throw new RecordRejected(`${what} is past the year 2262`);
  return value.toString();
}

function flattenScope(scope: RawScope): { name: string; version: string } {
  return { name: scope.name, version: scope.version };
}

function flattenLog(raw: RawLogRecord, context: Context): LogRecord {
  if (!Number.isInteger(raw.severityNumber) || raw.severityNumber < 0 || raw.severityNumber > 24) {
    throw new RecordRejected(`log severityNumber must be 0–24`);
  }
  const traceId = optionalId(raw.traceId, 16, 'log traceId');
  const spanId = optionalId(raw.spanId, 8, 'log spanId');
  if ((traceId === '') !== (spanId === '')) throw new RecordRejected('log has only one of traceId and spanId');
  const body = flattenBody(raw.body, context.limits);
  return {
    timeUnixNano: checkTime(raw.timeUnixNano, 'log timeUnixNano'),
    observedTimeUnixNano: checkTime(raw.observedTimeUnixNano, 'log observedTimeUnixNano'),
    severityNumber: raw.severityNumber,
    severityText: raw.severityText !== '' ? raw.severityText : severityTextOf(raw.severityNumber),
    body,
    service: context.service,
    traceId,
    spanId,
    attributes: flattenAttributes(raw.attributes, context.limits, 'log attribute'),
    resource: context.resource,
    scope: context.scope,
  };
}

const spanKinds: readonly SpanKind[] = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const statusCodes: readonly SpanRecord['status'][] = ['UNSET', 'OK', 'ERROR'];

function flattenSpan(raw: RawSpan, context: Context): SpanRecord {
  const kind = spanKinds[raw.kind];
  if (kind === undefined) throw new RecordRejected('span kind must be 0–5');
  const status = statusCodes[raw.statusCode];
  if (status === undefined) throw new RecordRejected('span status code must be 0–2');
  return {
    traceId: requiredId(raw.traceId, 16, 'span traceId'),
    spanId: requiredId(raw.spanId, 8, 'span spanId'),
    parentSpanId: optionalId(raw.parentSpanId, 8, 'span parentSpanId'),
    name: raw.name,
    kind,
    startTimeUnixNano: checkTime(raw.startTimeUnixNano, 'span startTimeUnixNano'),
    endTimeUnixNano: checkTime(raw.endTimeUnixNano, 'span endTimeUnixNano'),
    status,
    statusMessage: raw.statusMessage,
    service: context.service,
    attributes: flattenAttributes(raw.attributes, context.limits, 'span attribute'),
    resource: context.resource,
    scope: context.scope,
  };
}

const severityGroups = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

/** The group name of an OTLP severity number (9–12 → INFO); empty for 0 (unspecified). */
export function severityTextOf(severityNumber: number): string {
  if (severityNumber < 1) return '';
  return severityGroups[Math.floor((severityNumber - 1) / 4)] ?? '';
}

function isZero(hex: string): boolean {
  return /^0*$/.test(hex);
}

// An id is valid when it has exactly its size in bytes and is not all zeroes (OTLP trace.proto).
function checkId(hex: string, bytes: number, what: string): void {
  if (!/^[0-9a-f]*$/.test(hex)) throw new RecordRejected(`${what} is not hex`);
  if (hex.length !== bytes * 2) throw new RecordRejected(`${what} must be ${bytes} bytes`);
}

function requiredId(hex: string, bytes: number, what: string): string {
  if (hex === '' || isZero(hex)) throw new RecordRejected(`${what} is missing`);
  checkId(hex, bytes, what);
  return hex;
}

// Optional ids: empty or all zeroes both mean "none" (some SDKs send zeroes outside a trace).
function optionalId(hex: string, bytes: number, what: string): string {
  if (hex === '' || isZero(hex)) {
    if (hex !== '' && hex.length !== bytes * 2) throw new RecordRejected(`${what} must be ${bytes} bytes`);
    return '';
  }
  checkId(hex, bytes, what);
  return hex;
}

function flattenBody(body: AnyValue, limits: DecodeLimits): string {
  const text = body.kind === 'string' ? body.value : body.kind === 'empty' ? '' : JSON.stringify(toJson(body, 'log body'));
  if (text.length > limits.maxLogBodyLength) {
    throw new RecordRejected(`log body longer than ${limits.maxLogBodyLength} characters`);
  }
  return text;
}

/** Attributes as Flotilla keeps them; a value over a limit rejects the record (`what` names it in the reason). */
export function flattenAttributes(attributes: KeyValue[], limits: DecodeLimits, what: string): Attributes {
  // fromEntries defines own properties, so a key like "__proto__" stays data; a repeated key keeps its last value.
  return Object.fromEntries(attributes.map(({ key, value }) => [key, flattenValue(value, limits, what)]));
}

function flattenValue(value: AnyValue, limits: DecodeLimits, what: string): AttributeValue {
  const flat = value.kind === 'array' || value.kind === 'kvlist' ? JSON.stringify(toJson(value, what)) : scalar(value, what);
  if (typeof flat === 'string' && flat.length > limits.maxAttributeValueLength) {
    throw new RecordRejected(`${what} value longer than ${limits.maxAttributeValueLength} characters`);
  }
  return flat;
}

type JsonValue = AttributeValue | JsonValue[] | { [key: string]: JsonValue };

function toJson(value: AnyValue, what: string): JsonValue {
  if (value.kind === 'array') return value.values.map((item) => toJson(item, what));
  if (value.kind === 'kvlist') return Object.fromEntries(value.values.map((kv) => [kv.key, toJson(kv.value, what)]));
  return scalar(value, what);
}

function scalar(value: Exclude<AnyValue, { kind: 'array' | 'kvlist' }>, what: string): AttributeValue {
  switch (value.kind) {
    case 'empty': return null;
    case 'string':
    case 'bool': return value.value;
    // Integers beyond 2^53 stay exact as decimal text rather than rounding.
    case 'int': return Number.isSafeInteger(Number(value.value)) ? Number(value.value) : value.value.toString();
    // NaN and ±Infinity are not JSON numbers; their proto3 JSON names keep them readable.
    case 'double': return Number.isFinite(value.value) ? value.value : String(value.value);
    case 'bytes': return Buffer.from(value.value).toString('base64');
    case 'tooDeep': throw new RecordRejected(`${what} nested deeper than the limit`);
  }
}
