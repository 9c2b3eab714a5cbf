import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FlotillaError } from '../../../../src/core/errors.js';
import { metricSeries, searchLogs } from '../../../../src/telemetry/query/index.js';
import { openTelemetryStore, TELEMETRY_SCHEMA_VERSION } from '../../../../src/telemetry/store/index.js';
import { closeStores, log, metricPoint, ns, span, T0, tempStore } from './fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  closeStores();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'flotilla-telemetry-'));
  dirs.push(dir);
  return path.join(dir, 'nested', 'telemetry.db');
}

function thrown(work: () => unknown): FlotillaError {
  try {
    work();
  } catch (error) {
    if (error instanceof FlotillaError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('openTelemetryStore', () => {
  it('creates the file and its directory, in WAL mode at the current schema, and keeps records across reopening', () => {
    const file = tempFile();
    const store = openTelemetryStore(file);
    expect(store.insertLogs([log(0, { body: 'kept across restarts' })])).toBe(1);
    store.close();

    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(TELEMETRY_SCHEMA_VERSION);
    raw.close();

    const again = openTelemetryStore(file);
    expect(searchLogs(again, { text: 'restarts', limit: 10 }).map((l) => l.body)).toEqual(['kept across restarts']);
    again.close();
  });

  it('names the file when it is not a database', () => {
    const bad = path.join(path.dirname(path.dirname(tempFile())), 'garbage.db');
    writeFileSync(bad, 'this is not a database, and long enough to have a header: '.repeat(4));
    const error = thrown(() => openTelemetryStore(bad));
    expect(error.code).toBe('TELEMETRY_STORE_CORRUPT');
    expect(error.message).toContain(bad);
    expect(error.hint).toContain(`mv ${bad}`);
  });

  it('refuses a database from a newer Flotilla', () => {
    const file = tempFile();
    openTelemetryStore(file).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${TELEMETRY_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(thrown(() => openTelemetryStore(file)).code).toBe('TELEMETRY_STORE_TOO_NEW');
  });

  it('refuses a retention that is not a positive number', () => {
    expect(() => openTelemetryStore(tempFile(), { retention: { maxRecords: 0 } })).toThrow('retention.maxRecords must be a positive number, not 0');
    expect(() => openTelemetryStore(tempFile(), { retention: { maxAgeMs: Number.NaN } })).toThrow('retention.maxAgeMs');
  });
});

describe('inserts', () => {
  it('gives back a log record exactly as stored, nanoseconds beyond Number precision included', () => {
    const store = tempStore();
    const record = log(0, {
      timeUnixNano: ns(0, 123n), // not representable as a Number
      observedTimeUnixNano: ns(5, 7n),
      severityNumber: 17,
      severityText: 'ERROR',
      body: 'payment failed',
      service: 'orders',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      attributes: { 'http.status_code': 500, retry: true, note: null },
      resource: { 'service.name': 'orders', 'container.id': 'abc' },
      scope: { name: 'pino', version: '9.0.0' },
    });
    store.insertLogs([record]);
    expect(searchLogs(store, { limit: 1 })).toEqual([record]);
  });

  it('uses the observed time when the event time is unspecified', () => {
    const store = tempStore();
    store.insertLogs([log(0, { timeUnixNano: '0', observedTimeUnixNano: ns(42) })]);
    expect(searchLogs(store, { since: T0 + 42, until: T0 + 43, limit: 5 })).toHaveLength(1);
  });

  it('refuses a batch with a malformed time and writes none of it', () => {
    const store = tempStore();
    const error = thrown(() => store.insertLogs([log(0), log(1, { timeUnixNano: '12abc' })]));
    expect(error.code).toBe('TELEMETRY_BAD_RECORD');
    expect(error.message).toBe('timeUnixNano is not a Unix time in nanoseconds: "12abc"');
    expect(thrown(() => store.insertLogs([log(0, { timeUnixNano: '99999999999999999999' })])).code).toBe('TELEMETRY_BAD_RECORD');
    expect(store.stats().logs.stored).toBe(0);
  });

  it('keeps a span shipped twice once', () => {
    const store = tempStore();
    const a = span({ traceId: 't1', spanId: 's1', service: 'gateway', kind: 'SERVER', name: 'GET /', startMs: 0, durationMs: 5 });
    const b = span({ traceId: 't1', spanId: 's2', parentSpanId: 's1', service: 'gateway', kind: 'CLIENT', name: 'GET', startMs: 1, durationMs: 2 });
    expect(store.insertSpans([a, b])).toBe(2);
    expect(store.insertSpans([b, a])).toBe(0);
    expect(store.insertSpans([])).toBe(0);
    expect(store.stats().spans).toEqual({ stored: 2, evicted: 0 });
  });
});

describe('enforceRetention', () => {
  /** The rowids the full-text index still answers for `word`, read straight from the file (ids are times in ns: BigInt). */
  function ftsRows(file: string, word: string): bigint[] {
    const raw = new Database(file, { readonly: true });
    raw.defaultSafeIntegers(true);
    const rows = raw.prepare('SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? ORDER BY rowid').all(word) as { rowid: bigint }[];
    raw.close();
    return rows.map((row) => row.rowid);
  }

  /** The id of a log stored at `ms` after T0: its time in nanoseconds. */
  const idAt = (ms: number): bigint => BigInt(T0 + ms) * 1_000_000n;

  it('deletes records older than maxAgeMs, from the full-text index too, and counts them', () => {
    let now = T0 + 10_000;
    const store = tempStore({ retention: { maxAgeMs: 5_000 }, now: () => now });
    store.insertLogs([log(1_000, { body: 'old alpha' }), log(4_999, { body: 'old beta' }), log(5_000, { body: 'fresh alpha' }), log(9_000, { body: 'fresh gamma' })]);
    store.insertSpans([
      span({ traceId: 't', spanId: 'a', service: 's', kind: 'SERVER', name: 'x', startMs: 2_000, durationMs: 1 }),
      span({ traceId: 't', spanId: 'b', service: 's', kind: 'SERVER', name: 'x', startMs: 6_000, durationMs: 1 }),
    ]);
    store.insertMetrics([metricPoint(3_000), metricPoint(4_999), metricPoint(5_000), metricPoint(9_500)]);

    expect(store.enforceRetention()).toEqual({ logs: 2, spans: 1, metrics: 2 });
    expect(searchLogs(store, { text: 'alpha', limit: 10 }).map((l) => l.body)).toEqual(['fresh alpha']);
    expect(searchLogs(store, { text: 'old', limit: 10 })).toEqual([]);
    expect(ftsRows(store.file, 'old')).toEqual([]);
    expect(ftsRows(store.file, 'alpha')).toEqual([idAt(5_000)]);

    expect(store.enforceRetention()).toEqual({ logs: 0, spans: 0, metrics: 0 });
    now += 3_000; // the cutoff moves to T0 + 8000
    expect(store.enforceRetention()).toEqual({ logs: 1, spans: 1, metrics: 1 });
    expect(store.stats()).toEqual({ logs: { stored: 1, evicted: 3 }, spans: { stored: 0, evicted: 2 }, metrics: { stored: 1, evicted: 3 } });
  });

  it('keeps the newest maxRecords of each kind (by record time, not arrival) and the totals across reopening', () => {
    const store = tempStore({ retention: { maxRecords: 3 } });
    // Arrival order differs from time order: the oldest by time go first.
    store.insertLogs([log(500, { body: 'e' }), log(100, { body: 'a' }), log(400, { body: 'd' }), log(200, { body: 'b' }), log(300, { body: 'c' })]);
    const spans = [5, 1, 4, 2].map((t) => span({ traceId: 't', spanId: `s${t}`, service: 's', kind: 'INTERNAL', name: `n${t}`, startMs: t, durationMs: 1 }));
    store.insertSpans(spans);
    store.insertMetrics([metricPoint(40, { value: 4 }), metricPoint(10, { value: 1 }), metricPoint(30, { value: 3 }), metricPoint(50, { value: 5 }), metricPoint(20, { value: 2 })]);

    expect(store.enforceRetention()).toEqual({ logs: 2, spans: 1, metrics: 2 });
    expect(searchLogs(store, { limit: 10 }).map((l) => l.body)).toEqual(['e', 'd', 'c']);
    expect(ftsRows(store.file, 'a')).toEqual([]);
    expect(ftsRows(store.file, 'e')).toEqual([idAt(500)]);
    store.insertLogs([log(600, { body: 'f' })]);
    expect(store.enforceRetention()).toEqual({ logs: 1, spans: 0, metrics: 0 });
    expect(metricSeries(store, { name: 'http.requests', since: T0, until: T0 + 1_000 }).map((p) => p.value)).toEqual([3, 4, 5]);

    const file = store.file;
    store.close();
    const again = openTelemetryStore(file);
    expect(again.stats()).toEqual({ logs: { stored: 3, evicted: 3 }, spans: { stored: 3, evicted: 1 }, metrics: { stored: 3, evicted: 2 } });
    again.close();
  });

  it('applies age and count together, age first', () => {
    const store = tempStore({ retention: { maxAgeMs: 1_000, maxRecords: 2 }, now: () => T0 + 2_000 });
    store.insertLogs([log(0), log(500), log(1_200), log(1_500), log(1_900)]);
    expect(store.enforceRetention()).toEqual({ logs: 3, spans: 0, metrics: 0 });
    expect(searchLogs(store, { limit: 10 }).map((l) => l.timeUnixNano)).toEqual([ns(1_900), ns(1_500)]);
  });

  it('over maxBytes, evicts the oldest share of every kind until the data fits, and counts it', () => {
    const store = tempStore({ retention: { maxBytes: 2 * 1024 * 1024 } });
    const big = 'x'.repeat(2_000);
    for (let batch = 0; batch < 10; batch += 1) {
      store.insertLogs(Array.from({ length: 200 }, (_, i) => log(batch * 200 + i, { body: `${big} ${batch}-${i}` })));
    }
    const usedBytes = (): number => store.read((prepare) => {
      const pages = prepare('PRAGMA page_count').pluck().get() as number;
      const free = prepare('PRAGMA freelist_count').pluck().get() as number;
      const size = prepare('PRAGMA page_size').pluck().get() as number;
      return (pages - free) * size;
    });
    expect(usedBytes()).toBeGreaterThan(2 * 1024 * 1024);
    let evicted = 0;
    for (let round = 0; round < 10 && usedBytes() > 2 * 1024 * 1024; round += 1) evicted += store.enforceRetention().logs;
    expect(usedBytes()).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(evicted).toBeGreaterThan(0);
    expect(store.stats().logs).toEqual({ stored: 2_000 - evicted, evicted });
    // The oldest went: the newest log is still there.
    expect(searchLogs(store, { limit: 1 }).map((l) => l.body)).toEqual([`${big} 9-199`]);
  });

  it('does nothing without a policy', () => {
    const store = tempStore();
    store.insertLogs([log(-1_000_000)]);
    expect(store.enforceRetention()).toEqual({ logs: 0, spans: 0, metrics: 0 });
    expect(store.stats().logs).toEqual({ stored: 1, evicted: 0 });
  });
});

describe('log ids follow time', () => {
  it('finds matches newest first by time whatever order they arrived in, and keeps logs that share a timestamp', () => {
    const store = tempStore();
    store.insertLogs([log(300, { body: 'late match' }), log(100, { body: 'first match' }), log(200, { body: 'middle match' })]);
    store.insertLogs([log(100, { body: 'second match at the same time' }), log(250, { body: 'no hit here' })]);
    expect(searchLogs(store, { text: 'match', limit: 10 }).map((l) => l.body)).toEqual([
      'late match',
      'middle match',
      'second match at the same time',
      'first match',
    ]);
    expect(searchLogs(store, { text: 'match', limit: 2 }).map((l) => l.body)).toEqual(['late match', 'middle match']);
    expect(searchLogs(store, { limit: 10 }).map((l) => l.body)[0]).toBe('late match');
  });
});
