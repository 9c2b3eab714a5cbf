/**
 * ExportMetricsServiceRequest from OTLP/JSON: the protobuf messages of protobuf-metrics.ts with
 * lowerCamelCase keys, 64-bit integers as decimal strings or numbers, doubles as numbers or
 * "NaN"/"Infinity"/"-Infinity", enums as integers. As in json.ts a value of the wrong JSON type
 * refuses the request; so do two members of one oneof (proto3 JSON parsers refuse them too).
 * Exemplars must be an array and are not read further.
 */
import { malformed } from './errors.js';
import {
  array, attributes, boolean, double, enumNumber, int32, int64, object, optionalObject, parseResourceGroupsJson, string, uint32, uint64,
  type Json, type JsonObject,
} from './json.js';
import type { DecodeLimits } from './limits.js';
import { emptyMetricPoint, type RawExponentialBuckets, type RawMetric, type RawMetricPoint, type RawResourceGroup, type RecordBudget } from './model.js';

interface Context {
  budget: RecordBudget;
  maxDepth: number;
  /** Lists are kept up to this many entries plus one (every entry is still type-checked). */
  maxBuckets: number;
}

/** Parses an ExportMetricsServiceRequest in OTLP/JSON into data points grouped by resource and scope. */
export function parseMetricsJson(body: Buffer, budget: RecordBudget, limits: DecodeLimits): RawResourceGroup<RawMetricPoint>[] {
  const context: Context = { budget, maxDepth: limits.maxNestingDepth, maxBuckets: limits.maxBucketsPerPoint };
  return parseResourceGroupsJson(body, 'resourceMetrics', 'scopeMetrics', 'metrics', context.maxDepth, (value, path, into) => {
    parseMetric(value, path, context, into);
  });
}

type Kind = NonNullable<RawMetric['kind']>;
type PointParser = (p: JsonObject, path: string, point: RawMetricPoint, context: Context) => void;

const dataKeys: readonly (readonly [string, Kind])[] = [
  ['gauge', 'gauge'], ['sum', 'sum'], ['histogram', 'histogram'], ['exponentialHistogram', 'exponential_histogram'], ['summary', 'summary'],
];

function parseMetric(value: Json, path: string, context: Context, into: RawMetricPoint[]): void {
  const m = object(value, path);
  const metric: RawMetric = {
    name: string(m['name'], `${path}.name`),
    description: string(m['description'], `${path}.description`),
    unit: string(m['unit'], `${path}.unit`),
    kind: undefined,
    temporality: 0,
    monotonic: false,
  };
  const present = dataKeys.filter(([key]) => m[key] != null);
  if (present.length > 1) throw malformed(`${path}: ${present.map(([key]) => key).join(' and ')} are members of one oneof; send one`);
  const [key, kind] = present[0] ?? [];
  if (key === undefined || kind === undefined) return;
  const dataPath = `${path}.${key}`;
  const data = object(m[key], dataPath);
  metric.kind = kind;
  if (kind !== 'gauge' && kind !== 'summary') metric.temporality = enumNumber(data['aggregationTemporality'], `${dataPath}.aggregationTemporality`);
  if (kind === 'sum' && data['isMonotonic'] != null) metric.monotonic = boolean(data['isMonotonic'], `${dataPath}.isMonotonic`);
  array(data['dataPoints'], `${dataPath}.dataPoints`).forEach((pointValue, i) => {
    const pointPath = `${dataPath}.dataPoints[${i}]`;
    context.budget.take();
    const p = object(pointValue, pointPath);
    const point = emptyMetricPoint(metric);
    point.attributes = attributes(p['attributes'], `${pointPath}.attributes`, context.maxDepth);
    point.startTimeUnixNano = uint64(p['startTimeUnixNano'], `${pointPath}.startTimeUnixNano`);
    point.timeUnixNano = uint64(p['timeUnixNano'], `${pointPath}.timeUnixNano`);
    point.flags = uint32(p['flags'], `${pointPath}.flags`);
    array(p['exemplars'], `${pointPath}.exemplars`);
    pointParsers[kind](p, pointPath, point, context);
    into.push(point);
  });
}

const pointParsers: Record<Kind, PointParser> = {
  gauge: parseNumberPoint,
  sum: parseNumberPoint,
  histogram: parseHistogramPoint,
  exponential_histogram: parseExponentialPoint,
  summary: parseSummaryPoint,
};

function parseNumberPoint(p: JsonObject, path: string, point: RawMetricPoint): void {
  if (p['asDouble'] != null && p['asInt'] != null) throw malformed(`${path}: asDouble and asInt are members of one oneof; send one`);
  if (p['asDouble'] != null) point.value = double(p['asDouble'], `${path}.asDouble`);
  if (p['asInt'] != null) point.value = int64(p['asInt'], `${path}.asInt`);
}

function parseHistogramPoint(p: JsonObject, path: string, point: RawMetricPoint, context: Context): void {
  point.count = Number(uint64(p['count'], `${path}.count`));
  point.sum = optionalDouble(p['sum'], `${path}.sum`);
  point.min = optionalDouble(p['min'], `${path}.min`);
  point.max = optionalDouble(p['max'], `${path}.max`);
  point.bucketCounts = numbers(p['bucketCounts'], `${path}.bucketCounts`, readUint64, context.maxBuckets);
  point.explicitBounds = numbers(p['explicitBounds'], `${path}.explicitBounds`, double, context.maxBuckets);
}

function parseExponentialPoint(p: JsonObject, path: string, point: RawMetricPoint, context: Context): void {
  point.count = Number(uint64(p['count'], `${path}.count`));
  point.sum = optionalDouble(p['sum'], `${path}.sum`);
  point.min = optionalDouble(p['min'], `${path}.min`);
  point.max = optionalDouble(p['max'], `${path}.max`);
  point.scale = int32(p['scale'], `${path}.scale`);
  point.zeroCount = Number(uint64(p['zeroCount'], `${path}.zeroCount`));
  point.zeroThreshold = optionalDouble(p['zeroThreshold'], `${path}.zeroThreshold`) ?? 0;
  point.positive = buckets(p['positive'], `${path}.positive`, context.maxBuckets);
  point.negative = buckets(p['negative'], `${path}.negative`, context.maxBuckets);
}

function buckets(value: Json, path: string, maxBuckets: number): RawExponentialBuckets {
  const b = optionalObject(value, path);
  return {
    offset: int32(b['offset'], `${path}.offset`),
    counts: numbers(b['bucketCounts'], `${path}.bucketCounts`, readUint64, maxBuckets),
  };
}

function parseSummaryPoint(p: JsonObject, path: string, point: RawMetricPoint, context: Context): void {
  point.count = Number(uint64(p['count'], `${path}.count`));
  point.sum = optionalDouble(p['sum'], `${path}.sum`) ?? 0;
  array(p['quantileValues'], `${path}.quantileValues`).forEach((value, i) => {
    const q = object(value, `${path}.quantileValues[${i}]`);
    const quantile = {
      quantile: optionalDouble(q['quantile'], `${path}.quantileValues[${i}].quantile`) ?? 0,
      value: optionalDouble(q['value'], `${path}.quantileValues[${i}].value`) ?? 0,
    };
    if (point.quantiles.length <= context.maxBuckets) point.quantiles.push(quantile);
  });
}

function optionalDouble(value: Json, path: string): number | undefined {
  return value == null ? undefined : double(value, path);
}

const readUint64 = (value: Json, path: string): number => Number(uint64(value, path));

/** A list of numbers, every entry checked, at most `max` + 1 kept. */
function numbers(value: Json, path: string, read: (value: Json, path: string) => number, max: number): number[] {
  const out: number[] = [];
  array(value, path).forEach((item, i) => {
    // A null entry is not a number: uint64() and double() would default or refuse it differently.
    if (item == null) throw malformed(`${path}[${i}]: expected a number, got null`);
    const n = read(item, `${path}[${i}]`);
    if (out.length <= max) out.push(n);
  });
  return out;
}
