/**
 * Telemetry as Flotilla keeps it: OTLP logs, spans and metric data points flattened to one record
 * each, with their resource and scope folded in. The OTLP decoder produces these; the store keeps and queries them.
 */

/** Attribute values as OTLP carries them, flattened: arrays and maps become JSON text. */
export type AttributeValue = string | number | boolean | null;
export type Attributes = Record<string, AttributeValue>;

/** OTLP severity numbers (1–24) grouped as people read them. */
export type SeverityText = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

/** One log record. */
export interface LogRecord {
  /** Unix epoch nanoseconds, as a decimal string (beyond Number's exact range). */
  timeUnixNano: string;
  observedTimeUnixNano: string;
  /** 0 when unspecified. */
  severityNumber: number;
  severityText: string;
  /** The body as text (a non-string body is JSON). */
  body: string;
  /** `service.name` of the resource; `unknown_service` when absent, as the spec says. */
  service: string;
  /** Hex, lower case; empty when the record is not in a trace. */
  traceId: string;
  spanId: string;
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version: string };
}

/** Span kinds as OTLP numbers them. */
export type SpanKind = 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

/** One span. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  /** `ERROR` when the span's status code is error. */
  status: 'UNSET' | 'OK' | 'ERROR';
  statusMessage: string;
  service: string;
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version: string };
}

/** The OTLP metric data types. */
export type MetricKind = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

/** How a sum or histogram relates to its time interval; gauges and summaries carry none (UNSPECIFIED). */
export type AggregationTemporality = 'UNSPECIFIED' | 'DELTA' | 'CUMULATIVE';

/**
 * Explicit-bound histogram buckets: counts[i] counts the values in (bounds[i-1], bounds[i]], the
 * first bucket starting at -Infinity and the last ending at +Infinity, so there is one more count
 * than bounds. Both are empty when the histogram has no buckets.
 */
export interface ExplicitBuckets {
  bounds: number[];
  counts: number[];
}

/**
 * Base-2 exponential histogram buckets (OTLP ExponentialHistogramDataPoint): with base
 * 2^(2^-scale), positive.counts[i] counts values in (base^(offset+i), base^(offset+i+1)]; negative
 * likewise for the absolute values of negative ones; zeroCount those within zeroThreshold of 0.
 */
export interface ExponentialBuckets {
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  positive: { offset: number; counts: number[] };
  negative: { offset: number; counts: number[] };
}

/** A summary's value at one quantile (0 is the minimum, 1 the maximum). */
export interface QuantileValue {
  quantile: number;
  value: number;
}

/**
 * One metric data point, with its metric's name, unit and type. Numbers are JS numbers (doubles),
 * as Prometheus keeps samples: an integer value beyond 2^53 is rounded to the nearest double.
 */
export interface MetricPointRecord {
  name: string;
  description: string;
  unit: string;
  kind: MetricKind;
  temporality: AggregationTemporality;
  /** Sums only: true when the sum never decreases (a counter); false for every other kind. */
  monotonic: boolean;
  /** End of the point's interval (or the instant of a gauge), Unix epoch nanoseconds as decimal text. */
  timeUnixNano: string;
  /** Start of the interval; "0" when unspecified (gauges usually). */
  startTimeUnixNano: string;
  /** Gauge and sum: the value. Null for other kinds and for a point flagged "no recorded value". */
  value: number | null;
  /** Histograms and summaries: how many values were recorded; null otherwise. */
  count: number | null;
  /** Histograms and summaries: their sum, when sent; null otherwise. */
  sum: number | null;
  /** Histograms: the smallest and largest value recorded, when sent; null otherwise. */
  min: number | null;
  max: number | null;
  /** Histograms: the buckets (explicit or exponential, by kind); null for other kinds. */
  buckets: ExplicitBuckets | ExponentialBuckets | null;
  /** Summaries: the values at quantiles; null for other kinds. */
  quantiles: QuantileValue[] | null;
  /** OTLP DataPointFlags; bit 0 is "no recorded value" (a staleness marker). */
  flags: number;
  service: string;
  attributes: Attributes;
  resource: Attributes;
  scope: { name: string; version: string };
}

/** Outcome of decoding one request: what was accepted, and how many records were rejected and why (OTLP partial success). */
export interface Decoded<T> {
  records: T[];
  rejected: number;
  /** Human-readable reason for the rejections, empty when none. */
  errorMessage: string;
}
