/**
 * The collector's store over SQLite (better-sqlite3): its own file (telemetry.db), WAL so queries
 * never wait for ingest, synchronous=FULL for a writer that acknowledges to senders (`durable`),
 * else NORMAL (a power cut may lose the last commits, never corrupt the file). Writes come in
 * batches, one transaction each.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UsageError } from '../../core/errors.js';
import type { LogRecord, MetricPointRecord, SpanRecord } from '../types.js';
import { toMetricRow, type MetricRow } from './metric-rows.js';
import { toLogRow, toSpanRow, type LogRow, type SpanRow } from './rows.js';
import { migrateTelemetry } from './schema.js';
import { telemetryStoreError } from './store-error.js';

/** The conventional file name of the telemetry database inside the state directory. */
export const TELEMETRY_FILE = 'telemetry.db';

/** How long a write waits for another connection's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * What to keep: records older than maxAgeMs and, beyond maxRecords per kind (logs, spans, metric
 * points), the oldest go; then, while the data takes more than maxBytes of the file, the oldest
 * share of every kind.
 */
export interface RetentionPolicy {
  maxAgeMs?: number;
  maxRecords?: number;
  maxBytes?: number;
}

/** Options of openTelemetryStore; `now` (epoch ms) is there for tests. */
export interface TelemetryStoreOptions {
  retention?: RetentionPolicy;
  /**
   * Each commit reaches the disk before it returns (synchronous=FULL), so a write acknowledged to a
   * sender survives a power cut too; the collector's writer sets it, since agents delete what it
   * acknowledged. Otherwise synchronous=NORMAL: a crash of the process loses nothing, a power cut
   * the last commits.
   */
  durable?: boolean;
  now?: () => number;
}

/** Records removed by retention, per kind (`metrics` counts data points). */
export interface Evicted {
  logs: number;
  spans: number;
  metrics: number;
}

/** Stored and evicted totals per kind; evicted totals survive restarts. */
export interface TelemetryStats {
  logs: { stored: number; evicted: number };
  spans: { stored: number; evicted: number };
  metrics: { stored: number; evicted: number };
}

/** A cached prepared statement for `sql`. */
export type Prepare = (sql: string) => Database.Statement;

/** The telemetry store: batched inserts, retention, and read access for the query module. */
export interface TelemetryStore {
  readonly file: string;
  /** Stores a batch of logs in one transaction; returns how many were stored. */
  insertLogs(records: readonly LogRecord[]): number;
  /** Stores a batch of spans in one transaction; a span already stored (same trace and span id) is skipped. Returns how many were new. */
  insertSpans(records: readonly SpanRecord[]): number;
  /** Stores a batch of metric data points in one transaction; returns how many were stored. */
  insertMetrics(records: readonly MetricPointRecord[]): number;
  /** Deletes by age, then by count (oldest first); returns what this call evicted. */
  enforceRetention(): Evicted;
  /** Stored and evicted totals per kind. */
  stats(): TelemetryStats;
  /** Runs read-only `work` with cached prepared statements; SQLite failures leave as errors naming the file. */
  read<T>(work: (prepare: Prepare) => T): T;
  close(): void;
}

/** Opens (creating when missing, with its directory) the telemetry database at `file`. */
export function openTelemetryStore(file: string, options: TelemetryStoreOptions = {}): TelemetryStore {
  const retention = checkedRetention(options.retention ?? {});
  let db: Database.Database | undefined;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    // The first statement is where SQLite reads the file, so a file that is not a database fails here.
    db.pragma('journal_mode = WAL');
    db.pragma(options.durable ? 'synchronous = FULL' : 'synchronous = NORMAL');
    // Search and the dependency map sort and walk indexes over millions of rows: a 64 MiB page cache and in-memory sorts.
    db.pragma('cache_size = -65536');
    db.pragma('temp_store = MEMORY');
    migrateTelemetry(db, file);
    return sqliteTelemetryStore(db, file, retention, options.now ?? Date.now);
  } catch (error) {
    db?.close();
    throw telemetryStoreError(error, file);
  }
}

function checkedRetention(policy: RetentionPolicy): RetentionPolicy {
  for (const [key, value] of Object.entries(policy)) {
    if (value !== undefined && !(Number.isFinite(value) && (value as number) > 0)) {
      throw new UsageError(`retention.${key} must be a positive number, not ${String(value)}`);
    }
  }
  return policy;
}

function sqliteTelemetryStore(db: Database.Database, file: string, retention: RetentionPolicy, now: () => number): TelemetryStore {
  const guard = <T>(work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw telemetryStoreError(error, file);
    }
  };
  const statements = new Map<string, Database.Statement>();
  const prepare: Prepare = (sql) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  const insertLog = db.prepare<[LogRow]>(
    // A log's id is its time in nanoseconds, moved up past the logs already stored in the same
    // millisecond: ids follow time, so a full-text search can walk its matches newest first
    // (FTS5 rowid order) and stop at the page size instead of sorting every match.
    `INSERT INTO logs (id, time_ns, observed_ns, severity_number, severity_text, body, service, trace_id, span_id, attributes, resource, scope_name, scope_version)
     VALUES (COALESCE((SELECT MAX(id) + 1 FROM logs WHERE id >= @time_ns AND id < @time_ns + 1000000), @time_ns),
       @time_ns, @observed_ns, @severity_number, @severity_text, @body, @service, @trace_id, @span_id, @attributes, @resource, @scope_name, @scope_version)`,
  );
  const insertSpan = db.prepare<[SpanRow]>(
    `INSERT OR IGNORE INTO spans (trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, duration_ns, status, status_message, service, peer,
       attributes, resource, scope_name, scope_version)
     VALUES (@trace_id, @span_id, @parent_span_id, @name, @kind, @start_ns, @end_ns, @duration_ns, @status, @status_message, @service, @peer,
       @attributes, @resource, @scope_name, @scope_version)`,
  );
  const insertMetric = db.prepare<[MetricRow]>(
    `INSERT INTO metric_points (name, description, unit, kind, temporality, monotonic, time_ns, start_ns, value, count, sum, min, max,
       buckets, quantiles, flags, service, attributes, resource, scope_name, scope_version)
     VALUES (@name, @description, @unit, @kind, @temporality, @monotonic, @time_ns, @start_ns, @value, @count, @sum, @min, @max,
       @buckets, @quantiles, @flags, @service, @attributes, @resource, @scope_name, @scope_version)`,
  );
  // Not a trigger: see migration 3. Every write of logs goes through logsBatch.
  const indexLog = db.prepare<[number | bigint, string]>('INSERT INTO logs_fts (rowid, body) VALUES (?, ?)');
  // Ids are nanoseconds, past Number's exact range: the new row's id must come back as a BigInt.
  insertLog.safeIntegers(true);
  const logsBatch = db.transaction((rows: LogRow[]) => {
    for (const row of rows) indexLog.run(insertLog.run(row).lastInsertRowid, row.body);
    return rows.length;
  });
  const spansBatch = db.transaction((rows: SpanRow[]) => {
    let added = 0;
    for (const row of rows) added += insertSpan.run(row).changes;
    return added;
  });

  const metricsBatch = db.transaction((rows: MetricRow[]) => {
    for (const row of rows) insertMetric.run(row);
    return rows.length;
  });

  const counts = {
    logs: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM logs'),
    spans: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM spans'),
    metrics: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM metric_points'),
  };
  const evictedTotals = db.prepare<[], { kind: keyof Evicted; evicted: number }>('SELECT kind, evicted FROM evictions');
  const addEvicted = db.prepare<[number, string]>('UPDATE evictions SET evicted = evicted + ? WHERE kind = ?');
  // Deletes go through the rows' time indexes; the FTS triggers remove each deleted log from the index.
  const deletions = {
    logs: {
      older: db.prepare<[bigint]>('DELETE FROM logs WHERE time_ns < ?'),
      oldest: db.prepare<[number]>('DELETE FROM logs WHERE id IN (SELECT id FROM logs ORDER BY time_ns, id LIMIT ?)'),
    },
    spans: {
      older: db.prepare<[bigint]>('DELETE FROM spans WHERE start_ns < ?'),
      oldest: db.prepare<[number]>('DELETE FROM spans WHERE id IN (SELECT id FROM spans ORDER BY start_ns, id LIMIT ?)'),
    },
    metrics: {
      older: db.prepare<[bigint]>('DELETE FROM metric_points WHERE time_ns < ?'),
      oldest: db.prepare<[number]>('DELETE FROM metric_points WHERE id IN (SELECT id FROM metric_points ORDER BY time_ns, id LIMIT ?)'),
    },
  };
  const evict = (kind: keyof Evicted): number => {
    let removed = 0;
    if (retention.maxAgeMs !== undefined) {
      const cutoff = BigInt(Math.floor(now() - retention.maxAgeMs)) * 1_000_000n;
      removed += deletions[kind].older.run(cutoff).changes;
    }
    if (retention.maxRecords !== undefined) {
      const excess = (counts[kind].get()?.n ?? 0) - Math.floor(retention.maxRecords);
      if (excess > 0) removed += deletions[kind].oldest.run(excess).changes;
    }
    if (removed > 0) addEvicted.run(removed, kind);
    return removed;
  };
  const pragmaNumber = (name: string): number => Number(db.pragma(name, { simple: true }));
  /** Bytes of the file in use (free pages are reused, not returned to the disk). */
  const usedBytes = (): number => (pragmaNumber('page_count') - pragmaNumber('freelist_count')) * pragmaNumber('page_size');
  /** Over maxBytes, the same oldest share of each kind goes: the share by which the file is over, and 5% more so that it does not run every time. */
  const evictForSize = (evicted: Evicted): Evicted => {
    if (retention.maxBytes === undefined) return evicted;
    const used = usedBytes();
    if (used <= retention.maxBytes) return evicted;
    const share = Math.min(0.5, (used - retention.maxBytes) / used + 0.05);
    const result = { ...evicted };
    for (const kind of ['logs', 'spans', 'metrics'] as const) {
      const excess = Math.ceil((counts[kind].get()?.n ?? 0) * share);
      if (excess === 0) continue;
      const removed = deletions[kind].oldest.run(excess).changes;
      addEvicted.run(removed, kind);
      result[kind] += removed;
    }
    return result;
  };
  // One transaction: the deletions and the counters that report them commit together.
  const retain = db.transaction((): Evicted => evictForSize({ logs: evict('logs'), spans: evict('spans'), metrics: evict('metrics') }));

  return {
    file,
    insertLogs(records) {
      const rows = records.map(toLogRow); // converted first: a bad record leaves nothing half-written
      return rows.length === 0 ? 0 : guard(() => logsBatch.immediate(rows));
    },
    insertSpans(records) {
      const rows = records.map(toSpanRow);
      return rows.length === 0 ? 0 : guard(() => spansBatch.immediate(rows));
    },
    insertMetrics(records) {
      const rows = records.map(toMetricRow);
      return rows.length === 0 ? 0 : guard(() => metricsBatch.immediate(rows));
    },
    enforceRetention: () => guard(() => retain.immediate()),
    stats() {
      return guard(() => {
        const evicted: Evicted = { logs: 0, spans: 0, metrics: 0 };
        for (const row of evictedTotals.all()) evicted[row.kind] = row.evicted;
        return {
          logs: { stored: counts.logs.get()?.n ?? 0, evicted: evicted.logs },
          spans: { stored: counts.spans.get()?.n ?? 0, evicted: evicted.spans },
          metrics: { stored: counts.metrics.get()?.n ?? 0, evicted: evicted.metrics },
        };
      });
    },
    read: (work) => guard(() => work(prepare)),
    close() {
      if (db.open) db.close();
    },
  };
}
