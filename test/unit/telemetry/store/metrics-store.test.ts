import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FlotillaError } from '../../../../src/core/errors.js';
import { OtlpDecodeError, decodeMetricsRequest } from '../../../../src/telemetry/otlp/index.js';
import { metricSeries, searchLogs } from '../../../../src/telemetry/query/index.js';
import { openTelemetryStore, TELEMETRY_SCHEMA_VERSION } from '../../../../src/telemetry/store/index.js';
import type { MetricPointRecord } from '../../../../src/telemetry/types.js';
import { closeStores, log, metricPoint, ns, T0, tempStore } from './fixtures.js';

afterEach(closeStores);

const window = { since: T0, until: T0 + 10_000 };

describe('insertMetrics', () => {
  it('gives back every kind of point exactly as stored, in time order', () => {
    const store = tempStore();
    const points: MetricPointRecord[] = [
      metricPoint(1, { timeUnixNano: ns(1, 123n), startTimeUnixNano: ns(0, 7n), value: 2 ** 53 - 1, attributes: { route: '/a', code: 200, ok: true, none: null } }),
      metricPoint(2, { kind: 'gauge', temporality: 'UNSPECIFIED', monotonic: false, startTimeUnixNano: '0', value: -0.25, unit: '' }),
      metricPoint(3, {
        kind: 'histogram', temporality: 'DELTA', monotonic: false, value: null, count: 4, sum: 61.5, min: 0.5, max: 50, unit: 'ms',
        buckets: { bounds: [1, 10], counts: [1, 2, 1] },
      }),
      metricPoint(4, {
        kind: 'exponential_histogram', temporality: 'CUMULATIVE', monotonic: false, value: null, count: 10, sum: -3.5, min: null, max: null,
        buckets: { scale: -2, zeroCount: 2, zeroThreshold: 0.001, positive: { offset: -3, counts: [1, 2] }, negative: { offset: 5, counts: [0, 4, 1] } },
      }),
      metricPoint(5, {
        kind: 'summary', temporality: 'UNSPECIFIED', monotonic: false, value: null, count: 100, sum: 2500.5,
        quantiles: [{ quantile: 0, value: 1.5 }, { quantile: 1, value: 300 }],
      }),
      // A gap (no recorded value): every value null.
      metricPoint(6, { kind: 'gauge', temporality: 'UNSPECIFIED', monotonic: false, value: null, flags: 1 }),
    ];
    expect(store.insertMetrics([...points].reverse())).toBe(6);
    expect(store.insertMetrics([])).toBe(0);
    expect(metricSeries(store, { name: 'http.requests', ...window })).toEqual(points);
    expect(store.stats().metrics).toEqual({ stored: 6, evicted: 0 });
  });

  it('refuses a batch with a malformed time and writes none of it', () => {
    const store = tempStore();
    let error: unknown;
    try {
      store.insertMetrics([metricPoint(0), metricPoint(1, { startTimeUnixNano: '-5' })]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlotillaError);
    expect((error as FlotillaError).code).toBe('TELEMETRY_BAD_RECORD');
    expect((error as FlotillaError).message).toBe('startTimeUnixNano is not a Unix time in nanoseconds: "-5"');
    expect(store.stats().metrics.stored).toBe(0);
  });

  it('stores what a request decoded to, and nothing from a refused request', () => {
    const store = tempStore();
    const at = { timeUnixNano: ns(5) };
    const request = (...dataPoints: unknown[]): Buffer => Buffer.from(JSON.stringify({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'queue.depth', gauge: { dataPoints } }] }] }],
    }));
    const ingest = (body: Buffer): number | OtlpDecodeError => {
      try {
        return store.insertMetrics(decodeMetricsRequest(body, 'application/json', undefined, { maxRecords: 3 }).records);
      } catch (error) {
        if (error instanceof OtlpDecodeError) return error;
        throw error;
      }
    };
    // Partial success: the NaN point is rejected, the others kept.
    expect(ingest(request({ ...at, asDouble: 1 }, { ...at, asDouble: 'NaN' }, { ...at, asInt: '2' }))).toBe(2);
    // 400: one malformed point refuses the request, the good points before it included.
    expect(ingest(request({ ...at, asDouble: 3 }, { ...at, asDouble: 'three' }))).toMatchObject({ status: 400 });
    // 413: more points than the budget.
    expect(ingest(request(...[4, 5, 6, 7].map((v) => ({ ...at, asDouble: v }))))).toMatchObject({ status: 413 });
    expect(metricSeries(store, { name: 'queue.depth', ...window }).map((p) => [p.service, p.value])).toEqual([['unknown_service', 1], ['unknown_service', 2]]);
  });
});

describe('metricSeries', () => {
  it('filters by name, service and the window [since, until), and keeps the newest points when limited', () => {
    const store = tempStore();
    store.insertMetrics([
      metricPoint(100, { value: 1 }),
      metricPoint(200, { value: 2, service: 'orders' }),
      metricPoint(300, { value: 3 }),
      metricPoint(400, { value: 4 }),
      metricPoint(250, { value: 9, name: 'other' }),
    ]);
    const values = (query: Partial<Parameters<typeof metricSeries>[1]>): (number | null)[] =>
      metricSeries(store, { name: 'http.requests', ...window, ...query }).map((p) => p.value);
    expect(values({})).toEqual([1, 2, 3, 4]);
    expect(values({ service: 'gateway' })).toEqual([1, 3, 4]);
    expect(values({ since: T0 + 200, until: T0 + 400 })).toEqual([2, 3]);
    expect(values({ limit: 2 })).toEqual([3, 4]);
    expect(values({ name: 'other' })).toEqual([9]);
    expect(() => values({ limit: 0 })).toThrow('limit must be a whole number');
  });

  it('walks the (name, time) and (service, time) indexes', () => {
    const store = tempStore();
    const raw = new Database(store.file, { readonly: true });
    const plan = (sql: string): string => (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan('SELECT * FROM metric_points WHERE name = 1 AND time_ns >= 1 AND time_ns < 2 ORDER BY time_ns DESC')).toContain('metric_points_by_name_time');
    expect(plan('SELECT * FROM metric_points WHERE service = 1 AND time_ns >= 1 ORDER BY time_ns')).toContain('metric_points_by_service_time');
    expect(plan('SELECT id FROM metric_points ORDER BY time_ns, id LIMIT 5')).toContain('metric_points_by_time');
    raw.close();
  });
});

describe('schema', () => {
  it('upgrades a file written before metrics, keeping its logs and eviction totals', () => {
    const store = tempStore();
    store.insertLogs([log(0, { body: 'from before metrics' })]);
    const file = store.file;
    store.close();
    // Turn the file back into schema 1: no metrics table, no metrics counter.
    const raw = new Database(file);
    raw.exec("DROP TABLE metric_points; DELETE FROM evictions WHERE kind = 'metrics'; UPDATE evictions SET evicted = 4 WHERE kind = 'logs'");
    // Schema 1 indexed log bodies with a trigger (migration 3 drops it).
    raw.exec('CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN INSERT INTO logs_fts (rowid, body) VALUES (new.id, new.body); END;');
    raw.pragma('user_version = 1');
    raw.close();

    const again = openTelemetryStore(file);
    expect(TELEMETRY_SCHEMA_VERSION).toBe(3);
    expect(searchLogs(again, { limit: 5 }).map((l) => l.body)).toEqual(['from before metrics']);
    expect(again.insertMetrics([metricPoint(1)])).toBe(1);
    expect(again.stats()).toEqual({ logs: { stored: 1, evicted: 4 }, spans: { stored: 0, evicted: 0 }, metrics: { stored: 1, evicted: 0 } });
    // With the trigger gone, a new log is in the full-text index exactly once.
    again.insertLogs([log(1, { body: 'after the upgrade' })]);
    expect(searchLogs(again, { text: 'upgrade', limit: 5 }).map((l) => l.body)).toEqual(['after the upgrade']);
    expect(again.read((prepare) => prepare("SELECT COUNT(*) AS n FROM logs_fts WHERE logs_fts MATCH 'upgrade'").get())).toEqual({ n: 1 });
    again.close();
  });
});
