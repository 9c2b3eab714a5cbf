/** The mesh's telemetry under sampling: metrics count every request; spans go out for sampled, failed and faulted requests only. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { createOtlpTelemetry, noTelemetry, type RequestRecord } from '../../../src/mesh/http/telemetry/recorder.js';
import { decodeMetricsRequest, decodeTracesRequest } from '../../../src/telemetry/otlp/index.js';
import { startCaptureServer } from '../telemetry/otlp/capture-server.js';

let spanIds = 0;
const id = (digits: number): string => (++spanIds).toString(16).padStart(digits, '0');

function request(fields: Partial<RequestRecord> & { route: string }): RequestRecord {
  return {
    caller: 'web', callerAddress: '10.0.0.2', method: 'GET', status: 200, attempts: 1,
    startTimeUnixNano: 1_700_000_000_000_000_000n, durationNs: 2_000_000n,
    traceId: id(32), parentSpanId: '', clientSpanId: id(16), serverSpanId: id(16),
    ...fields,
  };
}

describe('createOtlpTelemetry with sampling', () => {
  it('counts every request in the metrics, and exports spans only for sampled, failed or faulted ones', async () => {
    await using collector = await startCaptureServer();
    const telemetry = createOtlpTelemetry({ service: 'api', version: '1', endpoint: collector.url, flushIntervalMs: 60_000, metricsIntervalMs: 60_000 });
    const records = [
      request({ route: '/sampled' }),
      request({ route: '/sampled-too', sampled: true }),
      request({ route: '/left-out', sampled: false }),
      request({ route: '/left-out', sampled: false }),
      request({ route: '/left-out', sampled: false, status: 404 }),
      request({ route: '/failed', sampled: false, status: 503 }),
      request({ route: '/no-answer', sampled: false, status: 0, error: 'reset' }),
      request({ route: '/faulted', sampled: false, faults: ['latency_1'] }),
    ];
    for (const record of records) telemetry.record(record);
    expect(telemetry.stats()).toMatchObject({ traced: 5, tailKept: 3, untraced: 3 });
    await telemetry.close();

    const spans = collector.requests.filter((r) => r.path === '/v1/traces').flatMap((r) => decodeTracesRequest(r.body, 'application/x-protobuf').records);
    const routes = (kind: string) => spans.filter((span) => span.kind === kind).map((span) => span.attributes['http.route']).sort();
    expect(routes('SERVER')).toEqual(['/failed', '/faulted', '/no-answer', '/sampled', '/sampled-too']);
    expect(routes('CLIENT')).toEqual(routes('SERVER'));
    // The spans kept though their trace was not sampled say so.
    expect(spans.filter((span) => span.attributes['flotilla.mesh.sampled'] === false).map((span) => span.attributes['http.route']).sort())
      .toEqual(['/failed', '/failed', '/faulted', '/faulted', '/no-answer', '/no-answer']);

    const points = collector.requests.filter((r) => r.path === '/v1/metrics').flatMap((r) => decodeMetricsRequest(r.body, 'application/x-protobuf').records);
    const sum = (name: string, route?: string) => points
      .filter((point) => point.name === name && (route === undefined || point.attributes['http.route'] === route))
      .reduce((total, point) => total + (point.kind === 'histogram' ? point.count ?? 0 : point.value ?? 0), 0);
    expect(sum('flotilla.mesh.requests')).toBe(records.length);
    expect(sum('flotilla.mesh.requests', '/left-out')).toBe(3);
    expect(sum('http.server.request.duration')).toBe(records.length);
    expect(sum('flotilla.mesh.errors')).toBe(2);
  });

  it('samples traces that start at the proxy at `spansPerSecond`, and follows the caller\'s flag otherwise', async () => {
    let now = 0;
    const telemetry = createOtlpTelemetry({ service: 'api', version: '1', endpoint: 'http://127.0.0.1:1', spansPerSecond: 2, nowMs: () => now });
    const root = { traceId: 'a'.repeat(32), parentSpanId: '', flags: '01' };
    expect([1, 2, 3].map(() => telemetry.sample(root))).toEqual([true, true, false]);
    now += 500;
    expect([1, 2].map(() => telemetry.sample(root))).toEqual([true, false]);
    expect(telemetry.sample({ ...root, parentSpanId: 'b'.repeat(16), flags: '01' })).toBe(true);
    expect(telemetry.sample({ ...root, parentSpanId: 'b'.repeat(16), flags: '00' })).toBe(false);
    await telemetry.close();
  });

  it('traces no new trace at spansPerSecond 0, and refuses a negative or infinite rate', async () => {
    const telemetry = createOtlpTelemetry({ service: 'api', version: '1', endpoint: 'http://127.0.0.1:1', spansPerSecond: 0 });
    expect(telemetry.sample({ traceId: 'a'.repeat(32), parentSpanId: '', flags: '01' })).toBe(false);
    await telemetry.close();
    for (const spansPerSecond of [-1, Number.POSITIVE_INFINITY]) {
      expect(() => createOtlpTelemetry({ service: 'api', version: '1', endpoint: 'http://127.0.0.1:1', spansPerSecond })).toThrow(UsageError);
    }
  });

  it('samples everything without a collector, so the services behind the proxy keep the flags they were sent', () => {
    expect(noTelemetry.sample({ traceId: 'a'.repeat(32), parentSpanId: '', flags: '01' })).toBe(true);
  });
});
