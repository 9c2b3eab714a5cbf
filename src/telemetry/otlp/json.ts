/**
 * ExportLogsServiceRequest and ExportTraceServiceRequest from OTLP/JSON
 * (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): proto3 JSON with
 * lowerCamelCase keys, hex trace and span ids, integer enums, 64-bit integers as strings or
 * numbers. A value of the wrong JSON type makes the whole request malformed, as a wire type
 * mismatch does in protobuf; unknown keys are ignored, as the spec requires.
 */
import { malformed } from './errors.js';
import { utf8 } from './body.js';
import type { AnyValue, KeyValue, RawLogRecord, RawResourceGroup, RawScope, RawSpan, RecordBudget } from './model.js';

/** A parsed JSON value, not yet checked. */
export type Json = unknown;
/** A JSON object. */
export type JsonObject = Record<string, Json>;

/** Parses an ExportLogsServiceRequest in OTLP/JSON. */
export function parseLogsJson(body: Buffer, budget: RecordBudget, maxDepth: number): RawResourceGroup<RawLogRecord>[] {
  return parseResourceGroupsJson(body, 'resourceLogs', 'scopeLogs', 'logRecords', maxDepth, (v, p, into) => {
    budget.take();
    into.push(parseLogRecord(v, p, maxDepth));
  });
}

/** Parses an ExportTraceServiceRequest in OTLP/JSON. */
export function parseTracesJson(body: Buffer, budget: RecordBudget, maxDepth: number): RawResourceGroup<RawSpan>[] {
  return parseResourceGroupsJson(body, 'resourceSpans', 'scopeSpans', 'spans', maxDepth, (v, p, into) => {
    budget.take();
    into.push(parseSpan(v, p, maxDepth));
  });
}

/** Reads one item of a scope's list (a log record, a span, a metric) and appends the records it holds, taking each from the budget. */
export type JsonItemParser<R> = (value: Json, path: string, into: R[]) => void;

/** Parses the nesting every OTLP/JSON export request shares, leaving each item to `parseItem`. */
export function parseResourceGroupsJson<R>(
  body: Buffer, groupsKey: string, scopesKey: string, itemsKey: string, maxDepth: number, parseItem: JsonItemParser<R>,
): RawResourceGroup<R>[] {
  let root: Json;
  try {
    // V8 parses JSON iteratively, so deep nesting cannot overflow the stack here; the walk
    // below never descends past maxDepth.
    root = JSON.parse(utf8(body, 'JSON body'));
  } catch (error) {
    throw error instanceof SyntaxError ? malformed(`request body is not valid JSON: ${error.message}`, error) : error;
  }
  const request = object(root, '$');
  return array(request[groupsKey], groupsKey).map((groupValue, g) => {
    const groupPath = `${groupsKey}[${g}]`;
    const group = object(groupValue, groupPath);
    const resource = optionalObject(group['resource'], `${groupPath}.resource`);
    return {
      resource: attributes(resource['attributes'], `${groupPath}.resource.attributes`, maxDepth),
      scopes: array(group[scopesKey], `${groupPath}.${scopesKey}`).map((scopeValue, s) => {
        const scopePath = `${groupPath}.${scopesKey}[${s}]`;
        const scopeGroup = object(scopeValue, scopePath);
        const scope = parseScope(scopeGroup['scope'], `${scopePath}.scope`);
        const records: R[] = [];
        array(scopeGroup[itemsKey], `${scopePath}.${itemsKey}`).forEach((itemValue, i) => {
          parseItem(itemValue, `${scopePath}.${itemsKey}[${i}]`, records);
        });
        return { scope, records };
      }),
    };
  });
}

function parseScope(value: Json, path: string): RawScope {
  const scope = optionalObject(value, path);
  return { name: string(scope['name'], `${path}.name`), version: string(scope['version'], `${path}.version`) };
}

function parseLogRecord(value: Json, path: string, maxDepth: number): RawLogRecord {
  const log = object(value, path);
  return {
    timeUnixNano: uint64(log['timeUnixNano'], `${path}.timeUnixNano`),
    observedTimeUnixNano: uint64(log['observedTimeUnixNano'], `${path}.observedTimeUnixNano`),
    severityNumber: enumNumber(log['severityNumber'], `${path}.severityNumber`),
    severityText: string(log['severityText'], `${path}.severityText`),
    body: log['body'] == null ? { kind: 'empty' } : anyValue(log['body'], `${path}.body`, 0, maxDepth),
    attributes: attributes(log['attributes'], `${path}.attributes`, maxDepth),
    traceId: string(log['traceId'], `${path}.traceId`).toLowerCase(),
    spanId: string(log['spanId'], `${path}.spanId`).toLowerCase(),
  };
}

function parseSpan(value: Json, path: string, maxDepth: number): RawSpan {
  const span = object(value, path);
  const status = optionalObject(span['status'], `${path}.status`);
  return {
    traceId: string(span['traceId'], `${path}.traceId`).toLowerCase(),
    spanId: string(span['spanId'], `${path}.spanId`).toLowerCase(),
    parentSpanId: string(span['parentSpanId'], `${path}.parentSpanId`).toLowerCase(),
    name: string(span['name'], `${path}.name`),
    kind: enumNumber(span['kind'], `${path}.kind`),
    startTimeUnixNano: uint64(span['startTimeUnixNano'], `${path}.startTimeUnixNano`),
    endTimeUnixNano: uint64(span['endTimeUnixNano'], `${path}.endTimeUnixNano`),
    attributes: attributes(span['attributes'], `${path}.attributes`, maxDepth),
    statusCode: enumNumber(status['code'], `${path}.status.code`),
    statusMessage: string(status['message'], `${path}.status.message`),
  };
}

/** A list of KeyValue; `depth` counts the arrays and kvlists around it. */
export function attributes(value: Json, path: string, maxDepth: number, depth = 0): KeyValue[] {
  return array(value, path).map((item, i) => {
    const kv = object(item, `${path}[${i}]`);
    const kvValue = kv['value'];
    return {
      key: string(kv['key'], `${path}[${i}].key`),
      value: kvValue == null ? { kind: 'empty' } : anyValue(kvValue, `${path}[${i}].value`, depth, maxDepth),
    };
  });
}

// `depth` counts the arrays and kvlists around this value; past the limit it is not walked.
function anyValue(value: Json, path: string, depth: number, maxDepth: number): AnyValue {
  if (depth > maxDepth) return { kind: 'tooDeep' };
  const v = object(value, path);
  if (v['stringValue'] != null) return { kind: 'string', value: string(v['stringValue'], `${path}.stringValue`) };
  if (v['boolValue'] != null) return { kind: 'bool', value: boolean(v['boolValue'], `${path}.boolValue`) };
  if (v['intValue'] != null) return { kind: 'int', value: int64(v['intValue'], `${path}.intValue`) };
  if (v['doubleValue'] != null) return { kind: 'double', value: double(v['doubleValue'], `${path}.doubleValue`) };
  if (v['bytesValue'] != null) return { kind: 'bytes', value: base64(v['bytesValue'], `${path}.bytesValue`) };
  if (v['arrayValue'] != null) {
    const values = array(object(v['arrayValue'], `${path}.arrayValue`)['values'], `${path}.arrayValue.values`);
    return { kind: 'array', values: values.map((item, i) => anyValue(item, `${path}.arrayValue.values[${i}]`, depth + 1, maxDepth)) };
  }
  if (v['kvlistValue'] != null) {
    const list = object(v['kvlistValue'], `${path}.kvlistValue`);
    return { kind: 'kvlist', values: attributes(list['values'], `${path}.kvlistValue.values`, maxDepth, depth + 1) };
  }
  return { kind: 'empty' };
}

function wrongType(path: string, expected: string, value: Json): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw malformed(`${path}: expected ${expected}, got ${got}`);
}

/** A JSON object, or a 400. */
export function object(value: Json, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) wrongType(path, 'an object', value);
  return value as JsonObject;
}

/** A JSON object, or {} when absent or null. */
export function optionalObject(value: Json, path: string): JsonObject {
  return value == null ? {} : object(value, path);
}

/** A JSON array, or [] when absent or null. */
export function array(value: Json, path: string): Json[] {
  if (value == null) return [];
  if (!Array.isArray(value)) wrongType(path, 'an array', value);
  return value as Json[];
}

/** A string, or "" when absent or null. */
export function string(value: Json, path: string): string {
  if (value == null) return '';
  if (typeof value !== 'string') wrongType(path, 'a string', value);
  return value;
}

/** A boolean (required). */
export function boolean(value: Json, path: string): boolean {
  if (typeof value !== 'boolean') wrongType(path, 'a boolean', value);
  return value;
}

const maxUint64 = 2n ** 64n - 1n;

/** A uint64 (decimal string or number), or 0 when absent or null. */
export function uint64(value: Json, path: string): bigint {
  if (value == null) return 0n;
  const n = integer(value, path);
  if (n < 0n || n > maxUint64) throw malformed(`${path}: ${n} is outside the range of uint64`);
  return n;
}

/** An int64 (decimal string or number, required). */
export function int64(value: Json, path: string): bigint {
  const n = integer(value, path);
  if (n !== BigInt.asIntN(64, n)) throw malformed(`${path}: ${n} is outside the range of int64`);
  return n;
}

// proto3 JSON writes 64-bit integers as decimal strings, and accepts plain numbers too.
function integer(value: Json, path: string): bigint {
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  return wrongType(path, 'an integer (number or decimal string)', value);
}

/** An int32 (number or decimal string), or 0 when absent or null. */
export function int32(value: Json, path: string): number {
  if (value == null) return 0;
  const n = integer(value, path);
  if (n !== BigInt.asIntN(32, n)) throw malformed(`${path}: ${n} is outside the range of int32`);
  return Number(n);
}

/** A uint32 (number or decimal string), or 0 when absent or null. */
export function uint32(value: Json, path: string): number {
  if (value == null) return 0;
  const n = integer(value, path);
  if (n !== BigInt.asUintN(32, n)) throw malformed(`${path}: ${n} is outside the range of uint32`);
  return Number(n);
}

/** An enum as its integer, or 0 when absent or null. */
export function enumNumber(value: Json, path: string): number {
  if (value == null) return 0;
  // OTLP/JSON requires enums as integers, not names.
  if (typeof value !== 'number' || !Number.isInteger(value)) wrongType(path, 'an integer enum value', value);
  return value;
}

/** A double: a number, a numeric string, or "NaN", "Infinity", "-Infinity" (required). */
export function double(value: Json, path: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return wrongType(path, 'a number', value);
}

function base64(value: Json, path: string): Uint8Array {
  const text = string(value, path);
  // proto3 JSON accepts standard and URL-safe base64, with or without padding.
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw malformed(`${path}: not base64`);
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}
