/**
 * Turns each proxied HTTP request into telemetry: a CLIENT span on the caller's behalf (service.name
 * = the caller, as resolved from its address) and a SERVER span for the callee (the proxy's service,
 * with its version) as the CLIENT span's child — the pair the dependency map reads as an edge
 * caller → callee, with no instrumentation in either service — plus the request metrics.
 */
import { OtlpExporter, type ExporterStats } from './exporter.js';
import { MeshMetrics } from './otlp-metrics.js';
import { encodeTracesRequest, type MeshSpan } from './otlp-spans.js';

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
}

/** Where telemetry goes; `record` must be cheap and never throw. */
export interface MeshTelemetry {
  record(request: RequestRecord): void;
  stats(): ExporterStats | undefined;
  close(): Promise<void>;
}

/** Telemetry that goes nowhere (no collector configured). */
export const noTelemetry: MeshTelemetry = {
  record: () => undefined,
  stats: () => undefined,
  close: () => Promise.resolve(),
};

/** How OTLP telemetry is set up for one service's proxy. */
export interface OtlpTelemetryOptions {
  /** The callee: the proxy's service. */
  service: string;
  version: string;
  endpoint: string;
  flushIntervalMs?: number;
  metricsIntervalMs?: number;
  maxQueue?: number;
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
  const common: Record<string, string | number> = {
    'http.request.method': record.method,
    'http.route': record.route,
    'flotilla.mesh.attempts': record.attempts,
  };
  if (record.status !== 0) common['http.response.status_code'] = record.status;
  if (record.faults && record.faults.length > 0) common['flotilla.mesh.faults'] = record.faults.join(',');
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
  const metrics = new MeshMetrics({ 'service.name': options.service, 'service.version': options.version, 'telemetry.sdk.name': 'flotilla-mesh' });
  const resources = createResourceCache();
  // Spans are built when a batch is sent, not per request: the request path only queues its record.
  const exporter = new OtlpExporter<RequestRecord>({
    endpoint: options.endpoint,
    encodeTraces: (batch) => encodeTracesRequest(batch.flatMap((record) => requestSpans(options.service, options.version, record, resources))),
    collectMetrics: () => metrics.collect(),
    ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
    ...(options.metricsIntervalMs === undefined ? {} : { metricsIntervalMs: options.metricsIntervalMs }),
    ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
  });
  return {
    record(record) {
      exporter.push(record);
      metrics.record({
        caller: record.caller,
        method: record.method,
        route: record.route,
        status: record.status,
        durationMs: Number(record.durationNs) / 1e6,
        error: isErrorStatus(record.status),
      });
    },
    stats: () => exporter.stats(),
    close: () => exporter.close(),
  };
}
