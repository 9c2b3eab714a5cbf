/**
 * The mesh's HTTP metrics, aggregated in memory and encoded as an OTLP ExportMetricsServiceRequest
 * (protobuf, metrics/v1/metrics.proto field numbers): request count, error count (sums) and request
 * duration (explicit-bucket histogram, seconds), per caller, method, route and status, with DELTA
 * temporality — each export carries what happened since the previous one, then the series reset.
 * Series are capped; past the cap samples go to one overflow series, as OpenTelemetry SDKs do.
 */
import { ProtoWriter, writeAttributes, type AttributeValue } from '../../../telemetry/otlp/protobuf-writer.js';
import { writeResource, writeScope } from './otlp-spans.js';

/** Histogram bounds in seconds (OpenTelemetry's advice for http.server.request.duration). */
export const DURATION_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Metric names. */
export const METRIC_NAMES = {
  requests: 'flotilla.mesh.requests',
  errors: 'flotilla.mesh.errors',
  duration: 'http.server.request.duration',
} as const;

/** One request, as the metrics see it. */
export interface RequestSample {
  caller: string;
  method: string;
  route: string;
  /** 0 when no status was sent (dropped, reset). */
  status: number;
  durationMs: number;
  error: boolean;
}

interface Series {
  attributes: Record<string, AttributeValue>;
  requests: number;
  errors: number;
  sum: number;
  min: number;
  max: number;
  buckets: number[];
}

/** Series by caller, method, route, then status. */
type SeriesIndex = Map<string, Map<string, Map<string, Map<number, Series>>>>;

const DELTA = 1;

function newSeries(attributes: Record<string, AttributeValue>): Series {
  return { attributes, requests: 0, errors: 0, sum: 0, min: Infinity, max: -Infinity, buckets: new Array<number>(DURATION_BOUNDS.length + 1).fill(0) };
}

/** Aggregates samples between exports. */
export class MeshMetrics {
  /**
   * Nested maps, not one map by a joined key: joining caller, method, route and status into a
   * string and hashing it was most of the cost of a request's metrics (150 ns of it); four lookups
   * by strings whose hashes V8 has already computed cost about a third of that.
   */
  private index: SeriesIndex = new Map();
  private series: Series[] = [];
  private overflow: Series | undefined;
  private since: bigint;

  constructor(
    private readonly resource: Readonly<Record<string, AttributeValue>>,
    private readonly maxSeries = 2_000,
    private readonly nowNs: () => bigint = () => BigInt(Date.now()) * 1_000_000n,
  ) {
    this.since = nowNs();
  }

  /** Adds one request. */
  record(sample: RequestSample): void {
    this.add(sample.caller, sample.method, sample.route, sample.status, sample.durationMs / 1000, sample.error);
  }

  /** Adds one request, as `record` does, without a sample object: this runs for every request. O(1). */
  add(caller: string, method: string, route: string, status: number, seconds: number, error: boolean): void {
    const series = this.index.get(caller)?.get(method)?.get(route)?.get(status) ?? this.newSeries(caller, method, route, status);
    series.requests++;
    if (error) series.errors++;
    series.sum += seconds;
    if (seconds < series.min) series.min = seconds;
    if (seconds > series.max) series.max = seconds;
    let bucket = 0;
    while (bucket < DURATION_BOUNDS.length && seconds > (DURATION_BOUNDS[bucket] as number)) bucket++;
    series.buckets[bucket] = (series.buckets[bucket] ?? 0) + 1;
  }

  /** The series of a key not seen in this interval: a new one, or past the cap the overflow series (not indexed, so the index stays bounded). */
  private newSeries(caller: string, method: string, route: string, status: number): Series {
    if (this.series.length >= this.maxSeries) {
      if (!this.overflow) {
        this.overflow = newSeries({ 'otel.metric.overflow': true });
        this.series.push(this.overflow);
      }
      return this.overflow;
    }
    const series = newSeries({ 'flotilla.caller': caller, 'http.request.method': method, 'http.route': route, 'http.response.status_code': status });
    this.series.push(series);
    let byMethod = this.index.get(caller);
    if (!byMethod) this.index.set(caller, (byMethod = new Map<string, Map<string, Map<number, Series>>>()));
    let byRoute = byMethod.get(method);
    if (!byRoute) byMethod.set(method, (byRoute = new Map<string, Map<number, Series>>()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map<number, Series>()));
    byStatus.set(status, series);
    return series;
  }

  /** Series held now. */
  get size(): number {
    return this.series.length;
  }

  /** Encodes what was recorded since the last call and starts a new interval; undefined when nothing was. */
  collect(): Buffer | undefined {
    const end = this.nowNs();
    const start = this.since;
    this.since = end;
    if (this.series.length === 0) return undefined;
    const all = this.series;
    this.series = [];
    this.index = new Map();
    this.overflow = undefined;
    return encodeMetrics(this.resource, all, start, end);
  }
}

function writeNumberPoints(writer: ProtoWriter, all: readonly Series[], value: (series: Series) => number, start: bigint, end: bigint): void {
  for (const series of all) {
    writer.begin(1).fixed64(2, start).fixed64(3, end).fixed64(6, BigInt(value(series)));
    writeAttributes(writer, 7, series.attributes);
    writer.end();
  }
}

function encodeMetrics(resource: Readonly<Record<string, AttributeValue>>, all: readonly Series[], start: bigint, end: bigint): Buffer {
  const writer = new ProtoWriter(1024 + all.length * 600);
  writer.begin(1);
  writeResource(writer, 1, resource);
  writer.begin(2);
  writeScope(writer, 1);
  // Sums: Metric { name 1, description 2, unit 3, sum 7 { data_points 1, aggregation_temporality 2, is_monotonic 3 } }.
  writer.begin(2).string(1, METRIC_NAMES.requests).string(2, 'HTTP requests through the mesh proxy').string(3, '{request}').begin(7);
  writeNumberPoints(writer, all, (series) => series.requests, start, end);
  writer.varint(2, DELTA).bool(3, true).end().end();
  writer.begin(2).string(1, METRIC_NAMES.errors).string(2, 'HTTP requests answered 5xx or not answered').string(3, '{request}').begin(7);
  writeNumberPoints(writer, all, (series) => series.errors, start, end);
  writer.varint(2, DELTA).bool(3, true).end().end();
  // Histogram: Metric.histogram 9 { data_points 1, aggregation_temporality 2 }.
  writer.begin(2).string(1, METRIC_NAMES.duration).string(2, 'Duration of HTTP requests through the mesh proxy').string(3, 's').begin(9);
  for (const series of all) {
    writer.begin(1).fixed64(2, start).fixed64(3, end).fixed64(4, BigInt(series.requests)).double(5, series.sum);
    writer.packedFixed64(6, series.buckets).packedDouble(7, DURATION_BOUNDS);
    writeAttributes(writer, 9, series.attributes);
    writer.double(11, series.min).double(12, series.max).end();
  }
  writer.varint(2, DELTA).end().end();
  writer.end().end();
  return writer.finish();
}
