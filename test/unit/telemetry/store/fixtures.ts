/** Records and a temporary store for the telemetry store and query tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openTelemetryStore, type TelemetryStore, type TelemetryStoreOptions } from '../../../../src/telemetry/store/index.js';
import type { LogRecord, MetricPointRecord, SpanKind, SpanRecord } from '../../../../src/telemetry/types.js';

/** 2023-11-14T22:13:20Z, in epoch milliseconds: the tests' "now" and time origin. */
export const T0 = 1_700_000_000_000;

/** Epoch nanoseconds as the contract's decimal text, `ms` after T0 plus `extraNs`. */
export const ns = (ms: number, extraNs = 0n): string => (BigInt(T0 + ms) * 1_000_000n + extraNs).toString();

/** A log record with defaults, `atMs` after T0. */
export function log(atMs: number, fields: Partial<LogRecord> = {}): LogRecord {
  return {
    timeUnixNano: ns(atMs),
    observedTimeUnixNano: ns(atMs),
    severityNumber: 9,
    severityText: 'INFO',
    body: 'hello',
    service: 'gateway',
    traceId: '',
    spanId: '',
    attributes: {},
    resource: { 'service.name': fields.service ?? 'gateway' },
    scope: { name: 'test', version: '1' },
    ...fields,
  };
}

/** A span with defaults, starting `startMs` after T0 and lasting `durationMs`. */
export function span(fields: { traceId: string; spanId: string; parentSpanId?: string; service: string; kind: SpanKind; name: string; startMs: number; durationMs: number } & Partial<SpanRecord>): SpanRecord {
  const { startMs, durationMs, ...rest } = fields;
  return {
    parentSpanId: '',
    startTimeUnixNano: ns(startMs),
    endTimeUnixNano: ns(startMs + durationMs),
    status: 'UNSET',
    statusMessage: '',
    attributes: {},
    resource: { 'service.name': fields.service },
    scope: { name: 'test', version: '1' },
    ...rest,
  };
}

/** A cumulative monotonic sum point (a counter) with defaults, `atMs` after T0. */
export function metricPoint(atMs: number, fields: Partial<MetricPointRecord> = {}): MetricPointRecord {
  return {
    name: 'http.requests',
    description: 'Requests served',
    unit: '{request}',
    kind: 'sum',
    temporality: 'CUMULATIVE',
    monotonic: true,
    timeUnixNano: ns(atMs),
    startTimeUnixNano: ns(0),
    value: 1,
    count: null,
    sum: null,
    min: null,
    max: null,
    buckets: null,
    quantiles: null,
    flags: 0,
    service: 'gateway',
    attributes: {},
    resource: { 'service.name': fields.service ?? 'gateway' },
    scope: { name: 'test', version: '1' },
    ...fields,
  };
}

const opened: { store: TelemetryStore; dir: string }[] = [];

/** A store on a fresh temporary file; `closeStores()` closes and removes it. */
export function tempStore(options: TelemetryStoreOptions = {}): TelemetryStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'flotilla-telemetry-'));
  const store = openTelemetryStore(path.join(dir, 'telemetry.db'), options);
  opened.push({ store, dir });
  return store;
}

/** Closes every store tempStore opened and removes its directory. */
export function closeStores(): void {
  for (const { store, dir } of opened.splice(0)) {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
