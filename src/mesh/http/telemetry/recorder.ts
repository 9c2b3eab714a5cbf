/**
 * Turns each proxied HTTP request into telemetry: the request metrics, always (count, errors and a
 * duration histogram per caller, method, route and status: what the dependency map and RED read),
 * and, for a sampled request, a CLIENT span on the caller's behalf (service.name = the caller, as
 * resolved from its address) and a SERVER span for the callee (the proxy's service, with its
 * version) as the CLIENT span's child: a trace through services with no instrumentation at all.
 *
 * Sampling (sampler.ts) is decided when the request starts; the spans are made when it ends, so a
 * request that failed or met a fault keeps its spans even when its trace was not sampled (a tail
 * rule): the traces worth reading are never the ones left out.
 */
import type { TraceContext } from '../trace-context.js';
import { OtlpExporter, type ExporterStats } from './exporter.js';
import { MeshMetrics } from './otlp-metrics.js';
import { encodeTracesRequest, type MeshSpan } from './otlp-spans.js';
import { DEFAULT_TRACES_PER_SECOND, TraceSampler } from './sampler.js';

/** Everything known about one finished request. */
export interface RequestRecord {
  caller: string;
  callerAddress: string;
  method: string;
  route: string;
  /** Status sent to the caller; 0 when none was (dropped, reset, caller gone). */
  status: number;
  /** Attempts made upstream (0 when a fault answered without calling it). */
  attempts: number;
  startTimeUnixNano: bigint;
  durationNs: bigint;
  traceId: string;
  /** The caller's span, if its request carried a traceparent. */
  parentSpanId: string;
  clientSpanId: string;
  serverSpanId: string;
  /** The upstream replica that answered, if any. */
  upstream?: string | undefined;
  /** Why it failed, when it did (an error, a fault). */
  error?: string | undefined;
  /** Message faults applied, by toxic name. */
  faults?: readonly string[] | undefined;
  /** What `sample` said when the request started; undefined counts as sampled. */
  sampled?: boolean | undefined;
}

/** What the telemetry did: the exporter's counts (of requests, a span pair each) and the sampling's. */
export interface MeshTelemetryStats extends ExporterStats {
  /** Requests whose spans went to the exporter: sampled, or kept for an error or a fault. */
  traced: number;
  /** Of those, the ones kept for an error or a fault although their trace was not sampled. */
  tailKept: number;
  /** Requests counted in the metrics only. */
  untraced: number;
}

/** Where telemetry goes; `sample` and `record` must be cheap and never throw. */
export interface MeshTelemetry {
  /**
   * Whether to trace a request, asked once as it starts: parent-based when it came with a
   * traceparent, else rate-limited. The caller passes the answer to `record` as `sampled`, and
   * should pass it on upstream in the traceparent's flags so that the trace is kept or left whole.
   */
  sample(trace: TraceContext): boolean;
  /** One finished request: metrics always, spans when sampled, failed or faulted. */
  record(request: RequestRecord): void;
  stats(): MeshTelemetryStats | undefined;
  close(): Promise<void>;
}

/**
 * Asks `telemetry` whether to trace a request. A trace that starts at the proxy carries the answer
 * in its flags (`00` when not sampled), so the services behind the proxy keep or drop it whole.
 */
export function sampleTrace(telemetry: MeshTelemetry, trace: TraceContext): boolean {
  const sampled = telemetry.sample(trace);
  if (!sampled && trace.parentSpanId === '') trace.flags = '00';
  return sampled;
}

/** Telemetry that goes nowhere (no collector configured); it samples everything, so services behind it keep the flags they were sent. */
export const noTelemetry: MeshTelemetry = {
  sample: () => true,
  record: () => undefined,
  stats: () => undefined,
  close: () => Promise.resolve(),
};

/** How often the metrics are sent when nothing else is said: the map and RED read them, so as often as spans. */
export const DEFAULT_METRICS_INTERVAL_MS = 1_000;

/** How OTLP telemetry is set up for one service's proxy. */
export interface OtlpTelemetryOptions {
  /** The callee: the proxy's service. */
  service: string;
  version: string;
  endpoint: string;
  flushIntervalMs?: number;
  /** How often metrics are sent; DEFAULT_METRICS_INTERVAL_MS when left out. */
  metricsIntervalMs?: number;
  maxQueue?: number;
  /**
   * Traces that start at this proxy (no traceparent) sampled per second, at most (default 100);
   * 0 traces only what callers sampled, and failed or faulted requests. Metrics count every request whatever it is.
   */
  spansPerSecond?: number;
  /** A monotonic clock in milliseconds, for the sampler's tests. */
  nowMs?: () => number;
}

/** Whether a request counts as an error: a 5xx, or no answer at all. */
export function isErrorStatus(status: number): boolean {
  return status === 0 || status >= 500;
}

/** A span resource by service (and version): the same object for the same service, so batches group spans by identity. */
export type ResourceCache = (service: string, version?: string) => Readonly<Record<string, string>>;

/** A resource cache of its own (one per telemetry instance, never shared between them). */
export function createResourceCache(): ResourceCache {
  const resources = new Map<string, Readonly<Record<string, string>>>();
  return (service, version) => {
    const key = version === undefined ? service : `${service}\u0000${version}`;
    let resource = resources.get(key);
    if (!resource) {
      resource = version === undefined
        ? { 'service.name': service, 'telemetry.sdk.name': 'flotilla-mesh' }
        : { 'service.name': service, 'service.version': version, 'telemetry.sdk.name': 'flotilla-mesh' };
      // Bounded: callers are services, few; past the bound resources are simply not shared.
      if (resources.size < 10_000) resources.set(key, resource);
    }
    return resource;
  };
}

/** The two spans of one request; `resourceFor` shares resources across the requests of a batch. */
export function requestSpans(service: string, version: string, record: RequestRecord, resourceFor: ResourceCache = createResourceCache()): [MeshSpan, MeshSpan] {
  const end = record.startTimeUnixNano + record.durationNs;
  const name = `${record.method} ${record.route}`;
  const error = isErrorStatus(record.status) ? (record.error ?? (record.status === 0 ? 'no response' : `HTTP ${record.status}`)) : undefined;
  const common: Record<string, string | number | boolean> = {
    'http.request.method': record.method,
    'http.route': record.route,
    'flotilla.mesh.attempts': record.attempts,
  };
  if (record.status !== 0) common['http.response.status_code'] = record.status;
  if (record.faults && record.faults.length > 0) common['flotilla.mesh.faults'] = record.faults.join(',');
  // Kept for its error or fault: the rest of its trace (the services' own spans) may not be stored.
  if (record.sampled === false) common['flotilla.mesh.sampled'] = false;
  const client: MeshSpan = {
    resource: resourceFor(record.caller),
    traceId: record.traceId,
    spanId: record.clientSpanId,
    parentSpanId: record.parentSpanId,
    name,
    kind: 'CLIENT',
    startTimeUnixNano: record.startTimeUnixNano,
    endTimeUnixNano: end,
    attributes: { ...common, 'peer.service': service, 'client.address': record.callerAddress },
    error,
  };
  const server: MeshSpan = {
    resource: resourceFor(service, version),
    traceId: record.traceId,
    spanId: record.serverSpanId,
    parentSpanId: record.clientSpanId,
    name,
    kind: 'SERVER',
    startTimeUnixNano: record.startTimeUnixNano,
    endTimeUnixNano: end,
    attributes: { ...common, 'client.address': record.callerAddress, ...(record.upstream ? { 'server.address': record.upstream } : {}) },
    error,
  };
  return [client, server];
}

/** Telemetry exported over OTLP/HTTP protobuf. */
export function createOtlpTelemetry(options: OtlpTelemetryOptions): MeshTelemetry {
  const sampler = new TraceSampler({
    tracesPerSecond: options.spansPerSecond ?? DEFAULT_TRACES_PER_SECOND,
    ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
  });
  const metrics = new MeshMetrics({ 'service.name': options.service, 'service.version': options.version, 'telemetry.sdk.name': 'flotilla-mesh' });
  const resources = createResourceCache();
  // Spans are built when a batch is sent, not per request: the request path only queues its record.
  const exporter = new OtlpExporter<RequestRecord>({
    endpoint: options.endpoint,
    encodeTraces: (batch) => encodeTracesRequest(batch.flatMap((record) => requestSpans(options.service, options.version, record, resources))),
    collectMetrics: () => metrics.collect(),
    metricsIntervalMs: options.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS,
    ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
    ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
  });
  const counts = { traced: 0, tailKept: 0, untraced: 0 };
  return {
    sample: (trace) => sampler.sample(trace),
    record(record) {
      const error = isErrorStatus(record.status);
      metrics.add(record.caller, record.method, record.route, record.status, Number(record.durationNs) / 1e9, error);
      if (record.sampled !== false) {
        counts.traced++;
        exporter.push(record);
      } else if (error || (record.faults !== undefined && record.faults.length > 0)) {
        counts.traced++;
        counts.tailKept++;
        exporter.push(record);
      } else counts.untraced++;
    },
    stats: () => ({ ...exporter.stats(), ...counts }),
    close: () => exporter.close(),
  };
}
