/**
 * A protobuf encoder for exactly what the agent sends: ExportLogsServiceRequest with its
 * resources, scopes, log records, attributes and AnyValues. Field numbers follow
 * opentelemetry-proto (collector/logs/v1, logs/v1/logs.proto, common/v1/common.proto,
 * resource/v1/resource.proto), the same the decoder in telemetry/otlp reads.
 *
 * Records are encoded once, when queued, and stored as bytes; a batch is then assembled by
 * wrapping the stored bytes, because a repeated protobuf field is only its elements side by side.
 *
 * Every message is sized first and then written into one buffer of exactly that size: the agent
 * encodes every line it reads, and building each field as a Buffer of its own and concatenating
 * them cost a third of the agent's CPU at 40,000 lines/s (bench/agent-shipping.mjs).
 */

/** An attribute value the agent produces: flat scalars, and string arrays (repo digests). */
export type AttributeValue = string | number | boolean | readonly string[];

/** Attributes by key, in the order they are to be written. */
export type AttributeMap = Readonly<Record<string, AttributeValue>>;

/** One log record before encoding. Ids are lower-case hex (16 and 8 bytes) or absent. */
export interface LogRecordInput {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  /** 0 when unknown. */
  severityNumber: number;
  severityText: string;
  body: string;
  attributes: AttributeMap;
  traceId?: string;
  spanId?: string;
}

/** A resource with the records under it, each record already encoded by encodeLogRecord. */
export interface EncodedResourceLogs {
  resource: Buffer;
  records: readonly Buffer[];
}

/** The instrumentation scope every agent record is sent under. */
export const AGENT_SCOPE = { name: 'flotilla.agent', version: '1' } as const;

/** One-byte tags (field number << 3 | wire type) of the fields the agent writes; all fields are below 16. */
const Tag = {
  // LogRecord
  time: 0x09, // 1, fixed64
  severityNumber: 0x10, // 2, varint
  severityText: 0x1a, // 3, bytes
  body: 0x2a, // 5, AnyValue
  attribute: 0x32, // 6, KeyValue
  traceId: 0x4a, // 9, bytes
  spanId: 0x52, // 10, bytes
  observedTime: 0x59, // 11, fixed64
  // KeyValue; also Resource.attributes, InstrumentationScope.name, ArrayValue.values, ExportLogsServiceRequest.resource_logs (all field 1, bytes)
  key: 0x0a,
  value: 0x12, // KeyValue 2; also ResourceLogs.scope_logs, InstrumentationScope.version, ScopeLogs.log_records
  // AnyValue
  stringValue: 0x0a,
  boolValue: 0x10,
  intValue: 0x18,
  doubleValue: 0x21,
  arrayValue: 0x2a,
} as const;
const FIELD_1_BYTES = 0x0a;
const FIELD_2_BYTES = 0x12;

/** Encodes one LogRecord message (without its field tag), to be stored and batched later. */
export function encodeLogRecord(record: LogRecordInput): Buffer {
  const entries = Object.entries(record.attributes);
  const sizes: number[] = [];
  let size = 9 + 9; // the two fixed64 times
  if (record.severityNumber !== 0) size += 1 + intSize(record.severityNumber);
  if (record.severityText !== '') size += bytesFieldSize(Buffer.byteLength(record.severityText));
  const bodySize = anyValueSize(record.body);
  size += bytesFieldSize(bodySize);
  for (const [key, value] of entries) {
    const entrySize = keyValueSize(key, value);
    sizes.push(entrySize);
    size += bytesFieldSize(entrySize);
  }
  const traceId = record.traceId ? Buffer.from(record.traceId, 'hex') : undefined;
  const spanId = record.spanId ? Buffer.from(record.spanId, 'hex') : undefined;
  if (traceId) size += bytesFieldSize(traceId.length);
  if (spanId) size += bytesFieldSize(spanId.length);

  const out = Buffer.allocUnsafe(size);
  let at = writeFixed64(out, writeByte(out, 0, Tag.time), record.timeUnixNano);
  if (record.severityNumber !== 0) at = writeInt(out, writeByte(out, at, Tag.severityNumber), record.severityNumber);
  if (record.severityText !== '') at = writeStringField(out, at, Tag.severityText, record.severityText);
  at = writeAnyValue(out, writeVarint(out, writeByte(out, at, Tag.body), bodySize), record.body);
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i] as [string, AttributeValue];
    at = writeKeyValue(out, writeVarint(out, writeByte(out, at, Tag.attribute), sizes[i] as number), key, value);
  }
  if (traceId) at = writeBytesField(out, at, Tag.traceId, traceId);
  if (spanId) at = writeBytesField(out, at, Tag.spanId, spanId);
  at = writeFixed64(out, writeByte(out, at, Tag.observedTime), record.observedTimeUnixNano);
  return finished(out, at);
}

/** Encodes one Resource message from its attributes. */
export function encodeResource(attributes: AttributeMap): Buffer {
  const entries = Object.entries(attributes);
  const sizes = entries.map(([key, value]) => keyValueSize(key, value));
  const out = Buffer.allocUnsafe(sizes.reduce((sum, entrySize) => sum + bytesFieldSize(entrySize), 0));
  let at = 0;
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i] as [string, AttributeValue];
    at = writeKeyValue(out, writeVarint(out, writeByte(out, at, FIELD_1_BYTES), sizes[i] as number), key, value);
  }
  return finished(out, at);
}

/** InstrumentationScope { name, version } of AGENT_SCOPE, encoded once. */
const SCOPE = (() => {
  const size = bytesFieldSize(Buffer.byteLength(AGENT_SCOPE.name)) + bytesFieldSize(Buffer.byteLength(AGENT_SCOPE.version));
  const out = Buffer.alloc(size);
  writeStringField(out, writeStringField(out, 0, FIELD_1_BYTES, AGENT_SCOPE.name), FIELD_2_BYTES, AGENT_SCOPE.version);
  return out;
})();

/** Assembles an ExportLogsServiceRequest from encoded resources and records, all under AGENT_SCOPE. */
export function encodeLogsRequest(groups: readonly EncodedResourceLogs[]): Buffer {
  // ExportLogsServiceRequest.resource_logs(1) → ResourceLogs { resource(1), scope_logs(2) → ScopeLogs { scope(1), log_records(2)* } }
  const scopeLogsSizes = groups.map((group) => group.records.reduce((sum, record) => sum + bytesFieldSize(record.length), bytesFieldSize(SCOPE.length)));
  const resourceLogsSizes = groups.map((group, i) => bytesFieldSize(group.resource.length) + bytesFieldSize(scopeLogsSizes[i] as number));
  const out = Buffer.allocUnsafe(resourceLogsSizes.reduce((sum, size) => sum + bytesFieldSize(size), 0));
  let at = 0;
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] as EncodedResourceLogs;
    at = writeVarint(out, writeByte(out, at, FIELD_1_BYTES), resourceLogsSizes[i] as number);
    at = writeBytesField(out, at, FIELD_1_BYTES, group.resource);
    at = writeVarint(out, writeByte(out, at, FIELD_2_BYTES), scopeLogsSizes[i] as number);
    at = writeBytesField(out, at, FIELD_1_BYTES, SCOPE);
    for (const record of group.records) at = writeBytesField(out, at, FIELD_2_BYTES, record);
  }
  return finished(out, at);
}

// Sizes. A length-delimited field is its tag (one byte here), its length as a varint, and the bytes.

function bytesFieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function keyValueSize(key: string, value: AttributeValue): number {
  return bytesFieldSize(Buffer.byteLength(key)) + bytesFieldSize(anyValueSize(value));
}

function anyValueSize(value: AttributeValue): number {
  if (typeof value === 'string') return bytesFieldSize(Buffer.byteLength(value));
  if (typeof value === 'boolean') return 2;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 1 + intSize(value) : 9;
  return bytesFieldSize(value.reduce((sum, item) => sum + bytesFieldSize(anyValueSize(item)), 0));
}

/** Bytes of a varint of a non-negative safe integer. */
function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) size += 1;
  return size;
}

/** Bytes of an int64 varint: a negative number is its 64-bit two's complement, always ten bytes. */
function intSize(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}

// Writers: each writes at `at` and returns the offset after what it wrote.

function writeByte(out: Buffer, at: number, byte: number): number {
  out[at] = byte;
  return at + 1;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let rest = value;
  while (rest >= 128) {
    out[at++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[at++] = rest;
  return at;
}

function writeInt(out: Buffer, at: number, value: number): number {
  if (value >= 0) return writeVarint(out, at, value);
  let rest = BigInt.asUintN(64, BigInt(value));
  for (let i = 0; i < 9; i++) {
    out[at++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  out[at++] = Number(rest);
  return at;
}

function writeFixed64(out: Buffer, at: number, value: bigint): number {
  out.writeBigUInt64LE(BigInt.asUintN(64, value), at);
  return at + 8;
}

function writeStringField(out: Buffer, at: number, tag: number, text: string): number {
  const next = writeVarint(out, writeByte(out, at, tag), Buffer.byteLength(text));
  return next + out.write(text, next, 'utf8');
}

function writeBytesField(out: Buffer, at: number, tag: number, bytes: Buffer): number {
  const next = writeVarint(out, writeByte(out, at, tag), bytes.length);
  bytes.copy(out, next);
  return next + bytes.length;
}

function writeKeyValue(out: Buffer, at: number, key: string, value: AttributeValue): number {
  const next = writeStringField(out, at, Tag.key, key);
  return writeAnyValue(out, writeVarint(out, writeByte(out, next, Tag.value), anyValueSize(value)), value);
}

function writeAnyValue(out: Buffer, at: number, value: AttributeValue): number {
  if (typeof value === 'string') return writeStringField(out, at, Tag.stringValue, value);
  if (typeof value === 'boolean') return writeVarint(out, writeByte(out, at, Tag.boolValue), value ? 1 : 0);
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return writeInt(out, writeByte(out, at, Tag.intValue), value);
    out.writeDoubleLE(value, writeByte(out, at, Tag.doubleValue));
    return at + 9;
  }
  // ArrayValue: field 1 repeats AnyValue.
  let next = writeVarint(out, writeByte(out, at, Tag.arrayValue), value.reduce((sum, item) => sum + bytesFieldSize(anyValueSize(item)), 0));
  for (const item of value) next = writeAnyValue(out, writeVarint(out, writeByte(out, next, FIELD_1_BYTES), anyValueSize(item)), item);
  return next;
}

/** The buffer, once it is known to be filled exactly: a size and a writer that disagree are a bug. */
function finished(out: Buffer, at: number): Buffer {
  if (at !== out.length) throw new Error(`otlp-encode: wrote ${at} bytes into a message sized ${out.length}`);
  return out;
}
