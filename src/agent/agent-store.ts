/**
 * The agent's state in one SQLite file (WAL): the queue of encoded records, the resources they
 * were sent under, each container's log cursor, and the counters. A batch of lines goes in with
 * its container's cursor in one transaction, and an acknowledged batch goes out in one, so a
 * SIGKILL at any point leaves lines either queued with the cursor past them, or not queued with
 * the cursor before them.
 *
 * When SQLite reports the disk full (SQLITE_FULL), the batch is dropped and counted as
 * `disk_full` rather than failing the agent; counts that cannot be written yet are kept in memory
 * and written with the next transaction that succeeds.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FlotillaError } from '../core/errors.js';
import type { EncodedResourceLogs } from './otlp-encode.js';

/** Where a container's logs were read up to: the last queued line's time, and how many lines carried exactly that time. */
export interface Cursor {
  timeNs: bigint;
  atTime: number;
}

/** Why records were dropped. */
export type DropReason = 'queue_full' | 'disk_full' | 'rejected';

/** Cumulative counts (they survive restarts) and the queue's current length. */
export interface StoreCounts {
  /** Lines read from containers. */
  received: number;
  /** Records written to the queue. */
  queued: number;
  /** Records the endpoint acknowledged. */
  shipped: number;
  dropped: Record<DropReason, number>;
  /** Records waiting in the queue now. */
  inQueue: number;
}

/** Lines of one container to queue, with the cursor just past them. */
export interface EnqueueBatch {
  containerId: string;
  /** The encoded Resource the records are sent under. */
  resource: Buffer;
  /** Encoded LogRecords. */
  records: readonly Buffer[];
  cursor: Cursor;
}

/** What became of an EnqueueBatch. */
export interface EnqueueResult {
  queued: number;
  dropped: number;
  reason?: 'queue_full' | 'disk_full';
}

/** The oldest queued records, grouped by resource, to send as one request. */
export interface QueuedBatch {
  firstId: number;
  lastId: number;
  count: number;
  groups: EncodedResourceLogs[];
}

/** The agent's state store. */
export interface AgentStore {
  readonly file: string;
  cursor(containerId: string): Cursor | undefined;
  /** Containers that have a cursor. */
  cursorIds(): string[];
  forgetCursor(containerId: string): void;
  /** Queues `batch.records` (as many as the bound allows) and moves the cursor, in one transaction. */
  enqueue(batch: EnqueueBatch): EnqueueResult;
  /** Up to `maxRecords` oldest records, and at most `maxBytes` of them unless one alone is larger. */
  nextBatch(maxRecords: number, maxBytes: number): QueuedBatch | undefined;
  /** Deletes an answered batch in one transaction: `rejected` of it count as dropped, the rest as shipped. */
  settle(batch: QueuedBatch, rejected: number): void;
  counts(): StoreCounts;
  close(): void;
}

const SCHEMA_VERSION = 1;
const COUNTER_NAMES = ['received', 'queued', 'shipped', 'dropped_queue_full', 'dropped_disk_full', 'dropped_rejected'] as const;
type CounterName = (typeof COUNTER_NAMES)[number];
type CounterDelta = Partial<Record<CounterName, number>>;

/** Opens (creating it and its directory, mode 0700) the state file; fails when another agent holds it. */
export function openAgentStore(file: string, options: { maxRecords: number }): AgentStore {
  let db: Database.Database | undefined;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    db = new Database(file, { timeout: 1_000 });
    db.pragma('journal_mode = WAL');
    // A SIGKILL loses nothing committed with NORMAL; a power cut may lose the last commits, and
    // since cursors move in the same transactions, those lines are read again, not lost.
    db.pragma('synchronous = NORMAL');
    // One agent per state file: two would ship every record twice and fight over cursors.
    db.pragma('locking_mode = EXCLUSIVE');
    return createAgentStore(db, file, options);
  } catch (error) {
    db?.close();
    if (error instanceof FlotillaError) throw error;
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new FlotillaError('AGENT_STATE_LOCKED', `Another agent is using the state file ${file}`, {
        hint: 'Stop the other agent, or give this one its own --state-dir.',
        cause: error,
      });
    }
    throw new FlotillaError('AGENT_STATE_UNAVAILABLE', `Cannot open the agent's state file ${file}: ${(error as Error).message}`, {
      hint: 'Check the permissions of the state directory and that the file is an agent state file.',
      cause: error,
    });
  }
}

/** The store over an open database (tests use this to set pragmas such as max_page_count). */
export function createAgentStore(db: Database.Database, file: string, options: { maxRecords: number }): AgentStore {
  migrate(db, file);
  const statements = {
    insertResource: db.prepare('INSERT OR IGNORE INTO resources (fingerprint, resource) VALUES (?, ?)'),
    resourceId: db.prepare<[string], { id: number }>('SELECT id FROM resources WHERE fingerprint = ?'),
    resource: db.prepare<[number], { resource: Buffer }>('SELECT resource FROM resources WHERE id = ?'),
    insertRecord: db.prepare('INSERT INTO records (resource_id, record) VALUES (?, ?)'),
    oldest: db.prepare<[number], { id: number; resource_id: number; record: Buffer }>('SELECT id, resource_id, record FROM records ORDER BY id LIMIT ?'),
    deleteRange: db.prepare('DELETE FROM records WHERE id BETWEEN ? AND ?'),
    depth: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM records'),
    cursor: db.prepare<[string], { time_ns: bigint; at_time: bigint }>('SELECT time_ns, at_time FROM cursors WHERE container_id = ?').safeIntegers(true),
    cursorIds: db.prepare<[], { container_id: string }>('SELECT container_id FROM cursors'),
    setCursor: db.prepare(
      'INSERT INTO cursors (container_id, time_ns, at_time) VALUES (?, ?, ?) ON CONFLICT(container_id) DO UPDATE SET time_ns = excluded.time_ns, at_time = excluded.at_time',
    ),
    forgetCursor: db.prepare('DELETE FROM cursors WHERE container_id = ?'),
    addCounter: db.prepare('UPDATE counters SET value = value + ? WHERE name = ?'),
    counters: db.prepare<[], { name: string; value: number }>('SELECT name, value FROM counters'),
    clearResources: db.prepare('DELETE FROM resources'),
  };

  let depth = statements.depth.get()?.n ?? 0;
  /** Counts of events that happened but could not be written yet (disk full). */
  let unwritten: CounterDelta = {};
  const resourceIds = new Map<string, number>();
  const resourceBytes = new Map<number, Buffer>();

  /** Runs `work` in a transaction that also writes the unwritten counts and `delta`; they are forgotten only once committed. */
  const commit = (delta: CounterDelta, work: () => void): void => {
    const total = addDeltas(unwritten, delta);
    db.transaction(() => {
      work();
      for (const name of COUNTER_NAMES) {
        const value = total[name] ?? 0;
        if (value !== 0) statements.addCounter.run(value, name);
      }
    })();
    unwritten = {};
  };

  const resourceIdOf = (resource: Buffer): { id: number; fingerprint: string } => {
    const fingerprint = createHash('sha256').update(resource).digest('hex');
    const known = resourceIds.get(fingerprint);
    if (known !== undefined) return { id: known, fingerprint };
    statements.insertResource.run(fingerprint, resource);
    const row = statements.resourceId.get(fingerprint);
    if (!row) throw new Error(`resource ${fingerprint} vanished inside its transaction`);
    return { id: row.id, fingerprint };
  };

  const writeCursor = (containerId: string, cursor: Cursor): void => {
    statements.setCursor.run(containerId, cursor.timeNs, cursor.atTime);
  };

  return {
    file,

    cursor(containerId) {
      const row = statements.cursor.get(containerId);
      return row && { timeNs: row.time_ns, atTime: Number(row.at_time) };
    },

    cursorIds: () => statements.cursorIds.all().map((row) => row.container_id),

    forgetCursor(containerId) {
      guardDiskFull(() => statements.forgetCursor.run(containerId));
    },

    enqueue(batch) {
      const room = Math.max(0, options.maxRecords - depth);
      const kept = batch.records.slice(0, room);
      const overflow = batch.records.length - kept.length;
      let added: { id: number; fingerprint: string } | undefined;
      try {
        commit({ received: batch.records.length, queued: kept.length, dropped_queue_full: overflow }, () => {
          if (kept.length > 0) {
            added = resourceIdOf(batch.resource);
            for (const record of kept) statements.insertRecord.run(added.id, record);
          }
          writeCursor(batch.containerId, batch.cursor);
        });
      } catch (error) {
        if (!isDiskFull(error)) throw storeError(error, file);
        unwritten = addDeltas(unwritten, { received: batch.records.length, dropped_disk_full: batch.records.length });
        // The lines are dropped, not to be read again: move the cursor past them if the disk allows that much.
        guardDiskFull(() => commit({}, () => writeCursor(batch.containerId, batch.cursor)));
        return { queued: 0, dropped: batch.records.length, reason: 'disk_full' };
      }
      if (added) resourceIds.set(added.fingerprint, added.id);
      depth += kept.length;
      return overflow > 0 ? { queued: kept.length, dropped: overflow, reason: 'queue_full' } : { queued: kept.length, dropped: 0 };
    },

    nextBatch(maxRecords, maxBytes) {
      const rows = statements.oldest.all(maxRecords);
      if (rows.length === 0) return undefined;
      const groups = new Map<number, Buffer[]>();
      let bytes = 0;
      let count = 0;
      let lastId = 0;
      for (const row of rows) {
        if (count > 0 && bytes + row.record.length > maxBytes) break;
        bytes += row.record.length;
        count += 1;
        lastId = row.id;
        const records = groups.get(row.resource_id) ?? [];
        records.push(row.record);
        groups.set(row.resource_id, records);
      }
      return {
        firstId: (rows[0] as { id: number }).id,
        lastId,
        count,
        groups: [...groups].map(([id, records]) => ({ resource: resourceOf(id), records })),
      };
    },

    settle(batch, rejected) {
      const refused = Math.min(Math.max(0, rejected), batch.count);
      try {
        commit({ shipped: batch.count - refused, dropped_rejected: refused }, () => {
          statements.deleteRange.run(batch.firstId, batch.lastId);
          // Resources are kept while records refer to them; an empty queue refers to none.
          if (depth - batch.count === 0) statements.clearResources.run();
        });
      } catch (error) {
        throw storeError(error, file);
      }
      depth -= batch.count;
      if (depth === 0) {
        resourceIds.clear();
        resourceBytes.clear();
      }
    },

    counts() {
      const stored = new Map(statements.counters.all().map((row) => [row.name, row.value]));
      const value = (name: CounterName): number => (stored.get(name) ?? 0) + (unwritten[name] ?? 0);
      return {
        received: value('received'),
        queued: value('queued'),
        shipped: value('shipped'),
        dropped: { queue_full: value('dropped_queue_full'), disk_full: value('dropped_disk_full'), rejected: value('dropped_rejected') },
        inQueue: depth,
      };
    },

    close() {
      // Counts still unwritten get one last chance.
      guardDiskFull(() => commit({}, () => undefined));
      db.close();
    },
  };

  function resourceOf(id: number): Buffer {
    let bytes = resourceBytes.get(id);
    if (!bytes) {
      bytes = statements.resource.get(id)?.resource ?? Buffer.alloc(0);
      resourceBytes.set(id, bytes);
    }
    return bytes;
  }

  /** Runs a write that may fail for want of disk; the caller goes on without it. */
  function guardDiskFull(work: () => void): void {
    try {
      work();
    } catch (error) {
      if (!isDiskFull(error)) throw storeError(error, file);
    }
  }
}

/** SQLITE_FULL: the disk (or max_page_count) has no room for the write. */
export function isDiskFull(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'SQLITE_FULL';
}

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new FlotillaError('AGENT_STATE_NEWER', `The agent state file ${file} was written by a newer Flotilla (schema ${version})`, {
      hint: 'Run the newer Flotilla, or give this agent another --state-dir.',
    });
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    db.exec(`
      CREATE TABLE resources (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, resource BLOB NOT NULL);
      CREATE TABLE records (id INTEGER PRIMARY KEY AUTOINCREMENT, resource_id INTEGER NOT NULL, record BLOB NOT NULL);
      CREATE TABLE cursors (container_id TEXT PRIMARY KEY, time_ns INTEGER NOT NULL, at_time INTEGER NOT NULL);
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    const insert = db.prepare('INSERT INTO counters (name, value) VALUES (?, 0)');
    for (const name of COUNTER_NAMES) insert.run(name);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function addDeltas(a: CounterDelta, b: CounterDelta): CounterDelta {
  const sum: CounterDelta = { ...a };
  for (const name of COUNTER_NAMES) sum[name] = (a[name] ?? 0) + (b[name] ?? 0);
  return sum;
}

function storeError(error: unknown, file: string): FlotillaError {
  if (error instanceof FlotillaError) return error;
  return new FlotillaError('AGENT_STATE_FAILED', `The agent's state file ${file} failed: ${(error as Error).message}`, { cause: error });
}
