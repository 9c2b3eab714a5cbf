/**
 * ExportMetricsServiceRequest from the protobuf wire format. Field numbers follow
 * opentelemetry-proto (collector/metrics/v1, metrics/v1/metrics.proto), checked against the
 * official JS serializer in @opentelemetry/otlp-transformer; the tests decode bodies produced by
 * the official exporters. Each Metric yields one RawMetricPoint per data point, all sharing the
 * metric's descriptor, and the budget counts data points. Exemplars are checked for their wire
 * type and skipped whole. Repeated numbers are read packed or not, as protobuf requires of parsers.
 */
import type { DecodeLimits } from './limits.js';
import { emptyMetricPoint, type RawExponentialBuckets, type RawMetric, type RawMetricPoint, type RawResourceGroup, type RecordBudget } from './model.js';
import { parseKeyValue, parseResourceGroups } from './protobuf.js';
import { Wire, type ProtobufReader } from './protobuf-reader.js';

interface Context {
  budget: RecordBudget;
  maxDepth: number;
  /** Lists are kept up to this many entries plus one: enough for flattening to see they were over. */
  maxBuckets: number;
}

/** Parses an ExportMetricsServiceRequest into data points grouped by resource and scope. */
export function parseMetricsProtobuf(body: Buffer, budget: RecordBudget, limits: DecodeLimits): RawResourceGroup<RawMetricPoint>[] {
  const context: Context = { budget, maxDepth: limits.maxNestingDepth, maxBuckets: limits.maxBucketsPerPoint };
  return parseResourceGroups(body, context.maxDepth, (r, into) => parseMetric(r, context, into));
}

type Kind = NonNullable<RawMetric['kind']>;
type PointParser = (r: ProtobufReader, metric: RawMetric, context: Context) => RawMetricPoint;

// Metric fields 5, 7, 9, 10, 11 are the members of its `data` oneof.
const dataFields: Partial<Record<number, Kind>> = { 5: 'gauge', 7: 'sum', 9: 'histogram', 10: 'exponential_histogram', 11: 'summary' };

function parseMetric(r: ProtobufReader, context: Context, into: RawMetricPoint[]): void {
  const metric: RawMetric = { name: '', description: '', unit: '', kind: undefined, temporality: 0, monotonic: false };
  let points: RawMetricPoint[] = [];
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    const kind = dataFields[field];
    if (kind !== undefined) {
      r.expect(field, wire, Wire.len);
      // A oneof member replaces another one sent before it; the same member sent again merges
      // into it (its points add up), as protobuf parsers do. No exporter sends either.
      if (metric.kind !== kind) {
        metric.kind = kind;
        metric.temporality = 0;
        metric.monotonic = false;
        points = [];
      }
      parseData(r.message(), kind, metric, context, points);
    } else if (field === 1) { r.expect(field, wire, Wire.len); metric.name = r.string('metric name'); }
    else if (field === 2) { r.expect(field, wire, Wire.len); metric.description = r.string('metric description'); }
    else if (field === 3) { r.expect(field, wire, Wire.len); metric.unit = r.string('metric unit'); }
    else r.skip(wire);
  }
  for (const point of points) into.push(point);
}

const pointParsers: Record<Kind, PointParser> = {
  gauge: parseNumberPoint,
  sum: parseNumberPoint,
  histogram: parseHistogramPoint,
  exponential_histogram: parseExponentialPoint,
  summary: parseSummaryPoint,
};

// Gauge, Sum, Histogram, ExponentialHistogram, Summary: data_points = 1; then
// aggregation_temporality = 2 (all but gauge and summary) and is_monotonic = 3 (sum only).
function parseData(r: ProtobufReader, kind: Kind, metric: RawMetric, context: Context, points: RawMetricPoint[]): void {
  const parsePoint = pointParsers[kind];
  const temporal = kind !== 'gauge' && kind !== 'summary';
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) {
      r.expect(field, wire, Wire.len);
      context.budget.take();
      points.push(parsePoint(r.message(), metric, context));
    } else if (field === 2 && temporal) { r.expect(field, wire, Wire.varint); metric.temporality = r.int32(); }
    else if (field === 3 && kind === 'sum') { r.expect(field, wire, Wire.varint); metric.monotonic = r.varint64() !== 0n; }
    else r.skip(wire);
  }
}

// NumberDataPoint: attributes 7, start 2, time 3, as_double 4, as_int 6 (sfixed64), exemplars 5, flags 8.
function parseNumberPoint(r: ProtobufReader, metric: RawMetric, context: Context): RawMetricPoint {
  const point = emptyMetricPoint(metric);
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 2: r.expect(field, wire, Wire.fixed64); point.startTimeUnixNano = r.fixed64(); break;
      case 3: r.expect(field, wire, Wire.fixed64); point.timeUnixNano = r.fixed64(); break;
      case 4: r.expect(field, wire, Wire.fixed64); point.value = r.double(); break;
      case 5: r.expect(field, wire, Wire.len); r.skip(wire); break;
      case 6: r.expect(field, wire, Wire.fixed64); point.value = r.sfixed64(); break;
      case 7: r.expect(field, wire, Wire.len); point.attributes.push(parseKeyValue(r.message(), 0, context.maxDepth)); break;
      case 8: r.expect(field, wire, Wire.varint); point.flags = r.uint32(); break;
      default: r.skip(wire);
    }
  }
  return point;
}

// HistogramDataPoint: attributes 9, start 2, time 3, count 4, sum 5, bucket_counts 6 (fixed64),
// explicit_bounds 7 (double), exemplars 8, flags 10, min 11, max 12.
function parseHistogramPoint(r: ProtobufReader, metric: RawMetric, context: Context): RawMetricPoint {
  const point = emptyMetricPoint(metric);
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 2: r.expect(field, wire, Wire.fixed64); point.startTimeUnixNano = r.fixed64(); break;
      case 3: r.expect(field, wire, Wire.fixed64); point.timeUnixNano = r.fixed64(); break;
      case 4: r.expect(field, wire, Wire.fixed64); point.count = Number(r.fixed64()); break;
      case 5: r.expect(field, wire, Wire.fixed64); point.sum = r.double(); break;
      case 6: repeated(r, field, wire, Wire.fixed64, readFixed64, point.bucketCounts, context.maxBuckets); break;
      case 7: repeated(r, field, wire, Wire.fixed64, readDouble, point.explicitBounds, context.maxBuckets); break;
      case 8: r.expect(field, wire, Wire.len); r.skip(wire); break;
      case 9: r.expect(field, wire, Wire.len); point.attributes.push(parseKeyValue(r.message(), 0, context.maxDepth)); break;
      case 10: r.expect(field, wire, Wire.varint); point.flags = r.uint32(); break;
      case 11: r.expect(field, wire, Wire.fixed64); point.min = r.double(); break;
      case 12: r.expect(field, wire, Wire.fixed64); point.max = r.double(); break;
      default: r.skip(wire);
    }
  }
  return point;
}

// ExponentialHistogramDataPoint: attributes 1, start 2, time 3, count 4, sum 5, scale 6 (sint32),
// zero_count 7, positive 8, negative 9, flags 10, exemplars 11, min 12, max 13, zero_threshold 14.
function parseExponentialPoint(r: ProtobufReader, metric: RawMetric, context: Context): RawMetricPoint {
  const point = emptyMetricPoint(metric);
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(field, wire, Wire.len); point.attributes.push(parseKeyValue(r.message(), 0, context.maxDepth)); break;
      case 2: r.expect(field, wire, Wire.fixed64); point.startTimeUnixNano = r.fixed64(); break;
      case 3: r.expect(field, wire, Wire.fixed64); point.timeUnixNano = r.fixed64(); break;
      case 4: r.expect(field, wire, Wire.fixed64); point.count = Number(r.fixed64()); break;
      case 5: r.expect(field, wire, Wire.fixed64); point.sum = r.double(); break;
      case 6: r.expect(field, wire, Wire.varint); point.scale = r.sint32(); break;
      case 7: r.expect(field, wire, Wire.fixed64); point.zeroCount = Number(r.fixed64()); break;
      case 8: r.expect(field, wire, Wire.len); parseBuckets(r.message(), point.positive, context.maxBuckets); break;
      case 9: r.expect(field, wire, Wire.len); parseBuckets(r.message(), point.negative, context.maxBuckets); break;
      case 10: r.expect(field, wire, Wire.varint); point.flags = r.uint32(); break;
      case 11: r.expect(field, wire, Wire.len); r.skip(wire); break;
      case 12: r.expect(field, wire, Wire.fixed64); point.min = r.double(); break;
      case 13: r.expect(field, wire, Wire.fixed64); point.max = r.double(); break;
      case 14: r.expect(field, wire, Wire.fixed64); point.zeroThreshold = r.double(); break;
      default: r.skip(wire);
    }
  }
  return point;
}

// Buckets: offset 1 (sint32), bucket_counts 2 (uint64 varints). A second Buckets message for the
// same side merges into the first, as protobuf parsers merge a message field sent twice.
function parseBuckets(r: ProtobufReader, buckets: RawExponentialBuckets, maxBuckets: number): void {
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expect(field, wire, Wire.varint); buckets.offset = r.sint32(); }
    else if (field === 2) repeated(r, field, wire, Wire.varint, readUint64, buckets.counts, maxBuckets);
    else r.skip(wire);
  }
}

// SummaryDataPoint: attributes 7, start 2, time 3, count 4, sum 5, quantile_values 6, flags 8.
function parseSummaryPoint(r: ProtobufReader, metric: RawMetric, context: Context): RawMetricPoint {
  const point = emptyMetricPoint(metric);
  point.sum = 0; // not optional in a summary: absent means 0
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 2: r.expect(field, wire, Wire.fixed64); point.startTimeUnixNano = r.fixed64(); break;
      case 3: r.expect(field, wire, Wire.fixed64); point.timeUnixNano = r.fixed64(); break;
      case 4: r.expect(field, wire, Wire.fixed64); point.count = Number(r.fixed64()); break;
      case 5: r.expect(field, wire, Wire.fixed64); point.sum = r.double(); break;
      case 6: {
        r.expect(field, wire, Wire.len);
        const quantile = parseQuantile(r.message());
        if (point.quantiles.length <= context.maxBuckets) point.quantiles.push(quantile);
        break;
      }
      case 7: r.expect(field, wire, Wire.len); point.attributes.push(parseKeyValue(r.message(), 0, context.maxDepth)); break;
      case 8: r.expect(field, wire, Wire.varint); point.flags = r.uint32(); break;
      default: r.skip(wire);
    }
  }
  return point;
}

// ValueAtQuantile: quantile 1, value 2 (doubles).
function parseQuantile(r: ProtobufReader): { quantile: number; value: number } {
  const quantile = { quantile: 0, value: 0 };
  while (!r.atEnd()) {
    const { field, wire } = r.tag();
    if (field === 1) { r.expect(field, wire, Wire.fixed64); quantile.quantile = r.double(); }
    else if (field === 2) { r.expect(field, wire, Wire.fixed64); quantile.value = r.double(); }
    else r.skip(wire);
  }
  return quantile;
}

const readFixed64 = (r: ProtobufReader): number => Number(r.fixed64());
const readDouble = (r: ProtobufReader): number => r.double();
const readUint64 = (r: ProtobufReader): number => Number(r.varint64());

/**
 * Appends a repeated number field: packed (one length-delimited run) or one value per tag. Every
 * value is read, so the wire format is checked, but at most `max` + 1 are kept.
 */
function repeated(r: ProtobufReader, field: number, wire: number, scalarWire: number, read: (r: ProtobufReader) => number, into: number[], max: number): void {
  if (wire === Wire.len) {
    const packed = r.message();
    while (!packed.atEnd()) {
      const value = read(packed);
      if (into.length <= max) into.push(value);
    }
    return;
  }
  r.expect(field, wire, scalarWire);
  const value = read(r);
  if (into.length <= max) into.push(value);
}
