/**
 * Telemetry as Flotilla keeps it: OTLP logs and spans flattened to one record each, with their
 * resource and scope folded in. The OTLP decoder produces these; the store keeps and queries them.
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

/** Outcome of decoding one request: what was accepted, and how many records were rejected and why (OTLP partial success). */
export interface Decoded<T> {
  records: T[];
  rejected: number;
  /** Human-readable reason for the rejections, empty when none. */
  errorMessage: string;
}
