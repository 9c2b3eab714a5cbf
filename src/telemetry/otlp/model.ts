/**
 * The OTLP request as parsed from either wire format, before validation and flattening.
 * Both the protobuf and the JSON parser produce this shape, so the rules that reject
 * single records live in one place (flatten.ts) and cannot drift between the two formats.
 */

/** An OTLP AnyValue. `tooDeep` stands for a value nested past the limit, which the parser did not descend into. */
export type AnyValue =
  | { kind: 'empty' }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'array'; values: AnyValue[] }
  | { kind: 'kvlist'; values: KeyValue[] }
  | { kind: 'tooDeep' };

/** One attribute; a missing value is an empty AnyValue. */
export interface KeyValue {
  key: string;
  value: AnyValue;
}

/** The instrumentation scope of a group of records. */
export interface RawScope {
  name: string;
  version: string;
}

/** A resource with its scopes, each with its records: the nesting every OTLP request shares. */
export interface RawResourceGroup<R> {
  resource: KeyValue[];
  scopes: { scope: RawScope; records: R[] }[];
}

/** A log record as sent. Ids are lower-case hex of whatever bytes arrived (validated later). */
export interface RawLogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: KeyValue[];
  traceId: string;
  spanId: string;
}

/** A span as sent. */
export interface RawSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  statusCode: number;
  statusMessage: string;
}

/** Counts records while parsing, so an oversized request is refused before it is all in memory. */
export interface RecordBudget {
  take(): void;
}
