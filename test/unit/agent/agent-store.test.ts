import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentStore, openAgentStore, type AgentStore, type EnqueueBatch } from '../../../src/agent/agent-store.js';
import { encodeLogRecord, encodeResource } from '../../../src/agent/otlp-encode.js';

const dirs: string[] = [];
const stores: AgentStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) {
    try {
      store.close();
    } catch {
      // closed by the test already
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-agent-store-'));
  dirs.push(dir);
  return join(dir, 'state', 'agent.db');
}

function open(file: string, maxRecords = 1_000): AgentStore {
  const store = openAgentStore(file, { maxRecords });
  stores.push(store);
  return store;
}

const resource = encodeResource({ 'service.name': 'svc' });
function batch(containerId: string, count: number, timeNs = 1_000n, text = 'line'): EnqueueBatch {
  const records = Array.from({ length: count }, (_, i) =>
    encodeLogRecord({ timeUnixNano: timeNs, observedTimeUnixNano: timeNs, severityNumber: 0, severityText: '', body: `${text}-${i}`, attributes: {} }),
  );
  return { containerId, resource, records, cursor: { timeNs, atTime: count } };
}

describe('agent store', () => {
  it('queues a batch with its cursor, hands out the oldest records, and deletes them when settled', () => {
    const store = open(stateFile());
    expect(store.enqueue(batch('c1', 3, 10n))).toEqual({ queued: 3, dropped: 0 });
    expect(store.cursor('c1')).toEqual({ timeNs: 10n, atTime: 3 });
    const first = store.nextBatch(2, 1 << 20);
    expect(first?.count).toBe(2);
    expect(first?.groups).toHaveLength(1);
    store.settle(first!, 0);
    const rest = store.nextBatch(10, 1 << 20);
    expect(rest?.count).toBe(1);
    store.settle(rest!, 1);
    expect(store.nextBatch(10, 1 << 20)).toBeUndefined();
    expect(store.counts()).toEqual({ received: 3, queued: 3, shipped: 2, dropped: { queue_full: 0, disk_full: 0, rejected: 1 }, inQueue: 0 });
  });

  it('is bounded: beyond maxRecords new records are dropped and counted as queue_full, and the cursor still moves', () => {
    const store = open(stateFile(), 5);
    expect(store.enqueue(batch('c1', 4, 1n))).toEqual({ queued: 4, dropped: 0 });
    expect(store.enqueue(batch('c1', 3, 2n))).toEqual({ queued: 1, dropped: 2, reason: 'queue_full' });
    expect(store.enqueue(batch('c1', 2, 3n))).toEqual({ queued: 0, dropped: 2, reason: 'queue_full' });
    expect(store.cursor('c1')).toEqual({ timeNs: 3n, atTime: 2 });
    expect(store.counts()).toMatchObject({ received: 9, queued: 5, dropped: { queue_full: 4 }, inQueue: 5 });
    // Room again once delivered.
    store.settle(store.nextBatch(5, 1 << 20)!, 0);
    expect(store.enqueue(batch('c1', 2, 4n))).toEqual({ queued: 2, dropped: 0 });
  });

  it('limits a batch by bytes but always hands out at least one record', () => {
    const store = open(stateFile());
    store.enqueue(batch('c1', 10));
    expect(store.nextBatch(10, 1)?.count).toBe(1);
    const oneSize = store.nextBatch(1, 1 << 20)!.groups[0]!.records[0]!.length;
    expect(store.nextBatch(10, oneSize * 3)?.count).toBe(3);
  });

  it('keeps queue, cursors and counts across a reopen', () => {
    const file = stateFile();
    const first = open(file, 3);
    first.enqueue(batch('c1', 5, 7n));
    first.settle(first.nextBatch(1, 1 << 20)!, 0);
    first.close();
    const again = open(file, 3);
    expect(again.cursor('c1')).toEqual({ timeNs: 7n, atTime: 5 });
    expect(again.counts()).toEqual({ received: 5, queued: 3, shipped: 1, dropped: { queue_full: 2, disk_full: 0, rejected: 0 }, inQueue: 2 });
    expect(again.nextBatch(10, 1 << 20)?.count).toBe(2);
  });

  it('refuses a second agent on the same state file', () => {
    const file = stateFile();
    open(file);
    expect(() => openAgentStore(file, { maxRecords: 10 })).toThrow(expect.objectContaining({ code: 'AGENT_STATE_LOCKED' }));
  });

  it('forgets cursors on request', () => {
    const store = open(stateFile());
    store.enqueue(batch('c1', 1));
    store.enqueue(batch('c2', 1));
    store.forgetCursor('c1');
    expect(store.cursorIds()).toEqual(['c2']);
  });

  it('counts a full disk (SQLITE_FULL) as disk_full, keeps going, and recovers when space returns', () => {
    const file = stateFile();
    mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    const store = createAgentStore(db, file, { maxRecords: 1_000_000 });
    stores.push(store);
    // "Disk nearly full": the file may not grow past its current size plus a few pages.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 40}`);
    const big = 'z'.repeat(3_000);

    let queued = 0;
    let diskFull = 0;
    for (let i = 1; i <= 40; i++) {
      const result = store.enqueue(batch('c1', 5, BigInt(i), big));
      queued += result.queued;
      if (result.reason === 'disk_full') diskFull += result.dropped;
    }
    expect(diskFull).toBeGreaterThan(0);
    expect(queued).toBeGreaterThan(0);
    expect(queued + diskFull).toBe(200);
    const counts = store.counts();
    expect(counts).toMatchObject({ received: 200, queued, dropped: { disk_full: diskFull, queue_full: 0 }, inQueue: queued });

    // Space returns: delivering frees pages, and a larger limit gives more.
    store.settle(store.nextBatch(1_000, 1 << 30)!, 0);
    db.pragma('max_page_count = 1000000');
    expect(store.enqueue(batch('c1', 5, 100n, big))).toEqual({ queued: 5, dropped: 0 });
    expect(store.cursor('c1')).toEqual({ timeNs: 100n, atTime: 5 });
    store.close();

    // Every count, including those that could not be written while the disk was full, was persisted.
    const reopened = open(file);
    expect(reopened.counts()).toEqual({ received: 205, queued: queued + 5, shipped: queued, dropped: { queue_full: 0, disk_full: diskFull, rejected: 0 }, inQueue: 5 });
  });
});
