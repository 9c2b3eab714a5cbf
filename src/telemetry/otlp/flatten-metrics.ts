/**
 * Raw OTLP metric data points → MetricPointRecords, one per point, for both wire formats. What
 * makes one point unacceptable rejects that point alone (counted as OTLP partial success,
 * `rejected_data_points`): the rules follow the OTLP metrics data model (metrics.proto).
 */
import type { AggregationTemporality, Decoded, ExplicitBuckets, ExponentialBuckets, MetricPointRecord, QuantileValue } from '../types.js';
import { flattenAttributes, flattenGroups, INT64_MAX, RecordRejected, type Context } from './flatten.js';
import type { DecodeLimits } from './limits.js';
import type { RawExponentialBuckets, RawMetricPoint, RawResourceGroup } from './model.js';

/** Flattens a metrics request, rejecting bad data points one by one. */
export function flattenMetrics(groups: RawResourceGroup<RawMetricPoint>[], limits: DecodeLimits): Decoded<MetricPointRecord> {
  return flattenGroups(groups, limits, flattenPoint, { one: 'data point', many: 'data points' });
}

/** DataPointFlags bit 0: the point marks a gap (a staleness marker); its value fields mean nothing. */
const FLAG_NO_RECORDED_VALUE = 1;


const temporalities: readonly AggregationTemporality[] = ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'];

/** Exponential histogram scales the data model allows. */
const MIN_SCALE = -10;
const MAX_SCALE = 20;

type Values = Pick<MetricPointRecord, 'value' | 'count' | 'sum' | 'min' | 'max' | 'buckets' | 'quantiles'>;
const noValues: Values = { value: null, count: null, sum: null, min: null, max: null, buckets: null, quantiles: null };

function flattenPoint(raw: RawMetricPoint, context: Context): MetricPointRecord {
  const { metric } = raw;
  const kind = metric.kind;
  // Never: a point is only parsed under a data field, which sets the kind.
  if (kind === undefined) throw new RecordRejected('metric has no data type');
  if (metric.name === '') throw new RecordRejected('metric name is missing');
  let temporality: AggregationTemporality = 'UNSPECIFIED';
  if (kind !== 'gauge' && kind !== 'summary') {
    // The data model says UNSPECIFIED must not be used: without it a sum cannot become a rate.
    if (metric.temporality !== 1 && metric.temporality !== 2) {
      throw new RecordRejected(`${kind} aggregation temporality must be 1 (delta) or 2 (cumulative)`);
    }
    temporality = temporalities[metric.temporality] ?? 'UNSPECIFIED';
  }
  if (raw.timeUnixNano === 0n) throw new RecordRejected('data point timeUnixNano is missing');
  if (raw.timeUnixNano > INT64_MAX || raw.startTimeUnixNano > INT64_MAX) throw new RecordRejected('data point time is past the year 2262');
  const gap = (raw.flags & FLAG_NO_RECORDED_VALUE) !== 0;
  const values = gap ? noValues : valuesOf(raw, context.limits);
  return {
    name: metric.name,
    description: metric.description,
    unit: metric.unit,
    kind,
    temporality,
    monotonic: kind === 'sum' && metric.monotonic,
    timeUnixNano: raw.timeUnixNano.toString(),
    startTimeUnixNano: raw.startTimeUnixNano.toString(),
    ...values,
    flags: raw.flags,
    service: context.service,
    attributes: flattenAttributes(raw.attributes, context.limits, 'data point attribute'),
    resource: context.resource,
    scope: context.scope,
  };
}

function valuesOf(raw: RawMetricPoint, limits: DecodeLimits): Values {
  switch (raw.metric.kind) {
    case 'gauge':
    case 'sum': {
      if (raw.value === undefined) throw new RecordRejected('number data point has no value');
      // Integers beyond 2^53 round to the nearest double, as every float-based metrics store keeps them.
      const value = typeof raw.value === 'bigint' ? Number(raw.value) : finite(raw.value, 'value');
      return { ...noValues, value };
    }
    case 'histogram':
      return { ...noValues, ...distribution(raw), buckets: explicitBuckets(raw, limits) };
    case 'exponential_histogram':
      return { ...noValues, ...distribution(raw), buckets: exponentialBuckets(raw, limits) };
    case 'summary':
      return { ...noValues, count: count(raw.count, 'count'), sum: finite(raw.sum ?? 0, 'sum'), quantiles: quantiles(raw, limits) };
    case undefined:
      return noValues;
  }
}

function distribution(raw: RawMetricPoint): Pick<Values, 'count' | 'sum' | 'min' | 'max'> {
  return {
    count: count(raw.count, 'count'),
    sum: raw.sum === undefined ? null : finite(raw.sum, 'sum'),
    min: raw.min === undefined ? null : finite(raw.min, 'min'),
    max: raw.max === undefined ? null : finite(raw.max, 'max'),
  };
}

// NaN and ±Infinity are refused: they are not JSON numbers, SQLite stores NaN as NULL, and one
// of them poisons every sum or average over the series. A gap is the NO_RECORDED_VALUE flag.
function finite(n: number, what: string): number {
  if (!Number.isFinite(n)) throw new RecordRejected(`data point ${what} is not a finite number`);
  return n;
}

// Counts arrive as Numbers of unsigned 64-bit integers; past 2^53 they would not be exact.
function count(n: number, what: string): number {
  if (!Number.isSafeInteger(n)) throw new RecordRejected(`data point ${what} is beyond 2^53`);
  return n;
}

function tooMany(n: number, limits: DecodeLimits): void {
  if (n > limits.maxBucketsPerPoint) throw new RecordRejected(`data point has more than ${limits.maxBucketsPerPoint} buckets`);
}

function explicitBuckets(raw: RawMetricPoint, limits: DecodeLimits): ExplicitBuckets {
  const { bucketCounts: counts, explicitBounds: bounds } = raw;
  tooMany(Math.max(counts.length, bounds.length), limits);
  if (counts.length === 0 && bounds.length === 0) return { bounds, counts };
  if (counts.length !== bounds.length + 1) throw new RecordRejected('histogram must have one more bucket count than explicit bounds');
  let previous = Number.NEGATIVE_INFINITY;
  for (const bound of bounds) {
    if (!Number.isFinite(bound) || bound <= previous) throw new RecordRejected('histogram explicit bounds must be finite and increasing');
    previous = bound;
  }
  if (sumOf(counts) !== raw.count) throw new RecordRejected('histogram count differs from the sum of its bucket counts');
  return { bounds, counts };
}

function exponentialBuckets(raw: RawMetricPoint, limits: DecodeLimits): ExponentialBuckets {
  tooMany(raw.positive.counts.length + raw.negative.counts.length, limits);
  if (!Number.isInteger(raw.scale) || raw.scale < MIN_SCALE || raw.scale > MAX_SCALE) {
    throw new RecordRejected(`exponential histogram scale must be ${MIN_SCALE} to ${MAX_SCALE}`);
  }
  if (!Number.isFinite(raw.zeroThreshold) || raw.zeroThreshold < 0) throw new RecordRejected('exponential histogram zero threshold must be finite and not negative');
  const zeroCount = count(raw.zeroCount, 'zero count');
  const positive = side(raw.positive);
  const negative = side(raw.negative);
  if (zeroCount + sumOf(positive.counts) + sumOf(negative.counts) !== raw.count) {
    throw new RecordRejected('exponential histogram count differs from its zero count plus its bucket counts');
  }
  return { scale: raw.scale, zeroCount, zeroThreshold: raw.zeroThreshold, positive, negative };
}

function side(buckets: RawExponentialBuckets): ExponentialBuckets['positive'] {
  return { offset: buckets.offset, counts: buckets.counts.map((n) => count(n, 'bucket count')) };
}

function quantiles(raw: RawMetricPoint, limits: DecodeLimits): QuantileValue[] {
  tooMany(raw.quantiles.length, limits);
  return raw.quantiles.map(({ quantile, value }) => {
    if (!(quantile >= 0 && quantile <= 1)) throw new RecordRejected('summary quantile must be from 0 to 1');
    return { quantile, value: finite(value, 'quantile value') };
  });
}

function sumOf(counts: number[]): number {
  let total = 0;
  for (const n of counts) total += count(n, 'bucket count');
  // A total past 2^53 cannot be compared exactly; count() refuses it like a single count.
  return count(total, 'bucket count total');
}
