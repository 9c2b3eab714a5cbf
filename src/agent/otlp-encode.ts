/**
 * A protobuf encoder for exactly what the agent sends: ExportLogsServiceRequest with its
 * resources, scopes, log records, attributes and AnyValues. Field numbers follow
 * opentelemetry-proto (collector/logs/v1, logs/v1/logs.proto, common/v1/common.proto,
 * resource/v1/resource.proto), the same the decoder in telemetry/otlp reads.
 *
 * Records are encoded once, when queued, and stored as bytes; a batch is then assembled by
 * wrapping the stored bytes, because a repeated protobuf field is only its elements side by side.
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

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;

/** Encodes one LogRecord message (without its field tag), to be stored and batched later. */
export function encodeLogRecord(record: LogRecordInput): Buffer {
  const parts: Buffer[] = [fixed64Field(1, record.timeUnixNano)];
  if (record.severityNumber !== 0) parts.push(varintField(2, BigInt(record.severityNumber)));
  if (record.severityText !== '') parts.push(stringField(3, record.severityText));
  parts.push(lenField(5, anyValue(record.body)));
  for (const [key, value] of Object.entries(record.attributes)) parts.push(lenField(6, keyValue(key, value)));
  if (record.traceId) parts.push(lenField(9, Buffer.from(record.traceId, 'hex')));
  if (record.spanId) parts.push(lenField(10, Buffer.from(record.spanId, 'hex')));
  parts.push(fixed64Field(11, record.observedTimeUnixNano));
  return Buffer.concat(parts);
}

/** Encodes one Resource message from its attributes. */
export function encodeResource(attributes: AttributeMap): Buffer {
  return Buffer.concat(Object.entries(attributes).map(([key, value]) => lenField(1, keyValue(key, value))));
}

/** Assembles an ExportLogsServiceRequest from encoded resources and records, all under AGENT_SCOPE. */
export function encodeLogsRequest(groups: readonly EncodedResourceLogs[]): Buffer {
  const scope = Buffer.concat([stringField(1, AGENT_SCOPE.name), stringField(2, AGENT_SCOPE.version)]);
  return Buffer.concat(
    groups.map((group) => {
      const scopeLogs = Buffer.concat([lenField(1, scope), ...group.records.map((record) => lenField(2, record))]);
      return lenField(1, Buffer.concat([lenField(1, group.resource), lenField(2, scopeLogs)]));
    }),
  );
}

function keyValue(key: string, value: AttributeValue): Buffer {
  return Buffer.concat([stringField(1, key), lenField(2, anyValue(value))]);
}

function anyValue(value: AttributeValue): Buffer {
  if (typeof value === 'string') return stringField(1, value);
  if (typeof value === 'boolean') return varintField(2, value ? 1n : 0n);
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return varintField(3, BigInt.asUintN(64, BigInt(value)));
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
    return Buffer.concat([tag(4, WIRE_FIXED64), bytes]);
  }
  // ArrayValue: field 1 repeats AnyValue.
  return lenField(5, Buffer.concat(value.map((item) => lenField(1, anyValue(item)))));
}

function tag(field: number, wire: number): Buffer {
  return varint(BigInt(field * 8 + wire));
}

function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, value);
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0n);
  return Buffer.from(bytes);
}

function varintField(field: number, value: bigint): Buffer {
  return Buffer.concat([tag(field, WIRE_VARINT), varint(value)]);
}

function fixed64Field(field: number, value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, value));
  return Buffer.concat([tag(field, WIRE_FIXED64), bytes]);
}

function lenField(field: number, payload: Buffer): Buffer {
  return Buffer.concat([tag(field, WIRE_LEN), varint(BigInt(payload.length)), payload]);
}

function stringField(field: number, text: string): Buffer {
  return lenField(field, Buffer.from(text, 'utf8'));
}
