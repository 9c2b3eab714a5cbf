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

/**
 * A metric's descriptor and data type, shared by all of its points. The parsers fill it in as
 * the Metric message is read (protobuf may send the name after the data), so it is complete
 * once the message is. `kind` is undefined when no data field arrived (then there are no points).
 */
export interface RawMetric {
  name: string;
  description: string;
  unit: string;
  kind: 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary' | undefined;
  /** AggregationTemporality as sent (0 unspecified, 1 delta, 2 cumulative, anything else invalid). */
  temporality: number;
  monotonic: boolean;
}

/** One side of an exponential histogram. */
export interface RawExponentialBuckets {
  offset: number;
  counts: number[];
}

/**
 * A metric data point of any type, as sent: fields a type does not have keep their defaults.
 * Unsigned 64-bit counts arrive as Numbers (rounded past 2^53; flattening refuses those).
 * Bucket and quantile lists are cut at maxBucketsPerPoint + 1 entries while parsing, so a
 * forged list costs no memory beyond the limit and flattening still sees that it was over.
 */
export interface RawMetricPoint {
  metric: RawMetric;
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  flags: number;
  /** Gauge and sum: as_double (number) or as_int (bigint); undefined when neither arrived. */
  value: number | bigint | undefined;
  count: number;
  sum: number | undefined;
  min: number | undefined;
  max: number | undefined;
  bucketCounts: number[];
  explicitBounds: number[];
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  positive: RawExponentialBuckets;
  negative: RawExponentialBuckets;
  quantiles: { quantile: number; value: number }[];
}

/** A data point with every field at its protobuf default, for the parsers to fill in. */
export function emptyMetricPoint(metric: RawMetric): RawMetricPoint {
  return {
    metric, attributes: [], startTimeUnixNano: 0n, timeUnixNano: 0n, flags: 0, value: undefined,
    count: 0, sum: undefined, min: undefined, max: undefined, bucketCounts: [], explicitBounds: [],
    scale: 0, zeroCount: 0, zeroThreshold: 0, positive: { offset: 0, counts: [] }, negative: { offset: 0, counts: [] }, quantiles: [],
  };
}

/** Counts records while parsing, so an oversized request is refused before it is all in memory. */
export interface RecordBudget {
  take(): void;
}
