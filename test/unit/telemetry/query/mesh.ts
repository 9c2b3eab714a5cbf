/**
 * What mesh proxies send, made by the proxy's own encoders and read back by the collector's
 * decoders, as the collector would store it: metric points per interval, and sampled span pairs.
 */
import { isErrorStatus, requestSpans } from '../../../../src/mesh/http/telemetry/recorder.js';
import { MeshMetrics } from '../../../../src/mesh/http/telemetry/otlp-metrics.js';
import { encodeTracesRequest } from '../../../../src/mesh/http/telemetry/otlp-spans.js';
import { decodeMetricsRequest, decodeTracesRequest } from '../../../../src/telemetry/otlp/index.js';
import type { MetricPointRecord, SpanRecord } from '../../../../src/telemetry/types.js';
import { T0 } from '../store/fixtures.js';

/** `count` requests alike, as one proxy's metrics see them. */
export interface MeshRequests {
  caller: string;
  method?: string;
  route?: string;
  status?: number;
  durationMs: number;
  count: number;
}

const nanosAt = (ms: number): bigint => BigInt(T0 + ms) * 1_000_000n;

/** The points `service`'s proxy sends for the interval that ends `endMs` after T0 (and began `intervalMs` before). */
export function meshPoints(service: string, endMs: number, requests: readonly MeshRequests[], options: { intervalMs?: number; maxSeries?: number } = {}): MetricPointRecord[] {
  let now = nanosAt(endMs - (options.intervalMs ?? 1_000));
  const metrics = new MeshMetrics({ 'service.name': service, 'service.version': '1', 'telemetry.sdk.name': 'flotilla-mesh' }, options.maxSeries, () => now);
  for (const { caller, method = 'GET', route = '/', status = 200, durationMs, count } of requests) {
    for (let i = 0; i < count; i++) metrics.record({ caller, method, route, status, durationMs, error: isErrorStatus(status) });
  }
  now = nanosAt(endMs);
  const body = metrics.collect();
  return body ? decodeMetricsRequest(body, 'application/x-protobuf').records : [];
}

let ids = 0;
const newId = (digits: number): string => (++ids).toString(16).padStart(digits, '0');

/** The span pair of one sampled request from `caller` through `service`'s proxy, started `startMs` after T0. */
export function meshSpans(caller: string, service: string, fields: { startMs: number; durationMs: number; status?: number; route?: string; traceId?: string; parentSpanId?: string }): { spans: SpanRecord[]; serverSpanId: string } {
  const serverSpanId = newId(16);
  const record = {
    caller, callerAddress: '10.0.0.9', method: 'GET', route: fields.route ?? '/', status: fields.status ?? 200, attempts: 1,
    startTimeUnixNano: nanosAt(fields.startMs), durationNs: BigInt(fields.durationMs) * 1_000_000n,
    traceId: fields.traceId ?? newId(32), parentSpanId: fields.parentSpanId ?? '', clientSpanId: newId(16), serverSpanId,
  };
  const spans = decodeTracesRequest(encodeTracesRequest(requestSpans(service, '1', record)), 'application/x-protobuf').records;
  return { spans, serverSpanId };
}

/**
 * `legacy`, with no instrumentation, behind its proxy. Per interval (ending at 10 s and at 20 s), from
 * gateway: 20 GET /items/:id at 3 ms, 20 at 20 ms, 5 POST /items at 60 ms answered 200 and 5 answered
 * 503; in the first, from an unknown caller: 4 GET /health at 1 ms. Gateway's 100 over both: 40 in
 * (0, 5 ms], 40 in (10, 25], 20 in (50, 75]; min 3 ms, max 60 ms.
 */
export function legacyPoints(): MetricPointRecord[] {
  const fromGateway = [
    { caller: 'gateway', route: '/items/:id', durationMs: 3, count: 20 },
    { caller: 'gateway', route: '/items/:id', durationMs: 20, count: 20 },
    { caller: 'gateway', method: 'POST', route: '/items', durationMs: 60, count: 5 },
    { caller: 'gateway', method: 'POST', route: '/items', status: 503, durationMs: 60, count: 5 },
  ];
  return [
    ...meshPoints('legacy', 10_000, [...fromGateway, { caller: 'unknown', route: '/health', durationMs: 1, count: 4 }]),
    ...meshPoints('legacy', 20_000, fromGateway),
  ];
}

/** Three of legacy's requests, sampled: their span pairs, one of them failed. */
export function legacySpans(): SpanRecord[] {
  return [
    meshSpans('gateway', 'legacy', { startMs: 9_000, durationMs: 3, route: '/items/:id' }),
    meshSpans('gateway', 'legacy', { startMs: 9_500, durationMs: 20, route: '/items/:id' }),
    meshSpans('gateway', 'legacy', { startMs: 19_000, durationMs: 60, status: 503, route: '/items' }),
  ].flatMap(({ spans }) => spans);
}
