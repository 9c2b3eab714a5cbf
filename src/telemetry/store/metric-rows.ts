/**
 * Metric data points to rows and back. Times cross as in rows.ts (BigInt in, decimal text out);
 * buckets and quantiles are JSON text; `monotonic` is 0 or 1 (SQLite has no boolean).
 */
import type {
  AggregationTemporality, Attributes, ExplicitBuckets, ExponentialBuckets, MetricKind, MetricPointRecord, QuantileValue,
} from '../types.js';
import { nanos } from './rows.js';

/** A metric point row as inserted. */
export interface MetricRow {
  name: string;
  description: string;
  unit: string;
  kind: string;
  temporality: string;
  monotonic: 0 | 1;
  time_ns: bigint;
  start_ns: bigint;
  value: number | null;
  count: number | null;
  sum: number | null;
  min: number | null;
  max: number | null;
  buckets: string | null;
  quantiles: string | null;
  flags: number;
  service: string;
  attributes: string;
  resource: string;
  scope_name: string;
  scope_version: string;
}

/** Columns a query selects to rebuild a MetricPointRecord (times already as text). */
export interface MetricOut extends Omit<MetricRow, 'time_ns' | 'start_ns'> {
  time_ns: string;
  start_ns: string;
}

/** The SELECT list that MetricOut expects. */
export const METRIC_COLUMNS = `name, description, unit, kind, temporality, monotonic, CAST(time_ns AS TEXT) AS time_ns,
  CAST(start_ns AS TEXT) AS start_ns, value, count, sum, min, max, buckets, quantiles, flags, service, attributes, resource,
  scope_name, scope_version`;

/** The row for a metric data point. */
export function toMetricRow(point: MetricPointRecord): MetricRow {
  return {
    name: point.name,
    description: point.description,
    unit: point.unit,
    kind: point.kind,
    temporality: point.temporality,
    monotonic: point.monotonic ? 1 : 0,
    time_ns: nanos(point.timeUnixNano, 'timeUnixNano'),
    start_ns: nanos(point.startTimeUnixNano, 'startTimeUnixNano'),
    value: point.value,
    count: point.count,
    sum: point.sum,
    min: point.min,
    max: point.max,
    buckets: point.buckets === null ? null : JSON.stringify(point.buckets),
    quantiles: point.quantiles === null ? null : JSON.stringify(point.quantiles),
    flags: point.flags,
    service: point.service,
    attributes: JSON.stringify(point.attributes),
    resource: JSON.stringify(point.resource),
    scope_name: point.scope.name,
    scope_version: point.scope.version,
  };
}

/** The MetricPointRecord a row holds. */
export function fromMetricRow(row: MetricOut): MetricPointRecord {
  return {
    name: row.name,
    description: row.description,
    unit: row.unit,
    kind: row.kind as MetricKind,
    temporality: row.temporality as AggregationTemporality,
    monotonic: row.monotonic === 1,
    timeUnixNano: row.time_ns,
    startTimeUnixNano: row.start_ns,
    value: row.value,
    count: row.count,
    sum: row.sum,
    min: row.min,
    max: row.max,
    buckets: row.buckets === null ? null : (JSON.parse(row.buckets) as ExplicitBuckets | ExponentialBuckets),
    quantiles: row.quantiles === null ? null : (JSON.parse(row.quantiles) as QuantileValue[]),
    flags: row.flags,
    service: row.service,
    attributes: JSON.parse(row.attributes) as Attributes,
    resource: JSON.parse(row.resource) as Attributes,
    scope: { name: row.scope_name, version: row.scope_version },
  };
}
