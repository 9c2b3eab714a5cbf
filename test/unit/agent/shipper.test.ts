import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAgentStore, type AgentStore } from '../../../src/agent/agent-store.js';
import { encodeLogRecord, encodeResource } from '../../../src/agent/otlp-encode.js';
import { startShipper, type Shipper } from '../../../src/agent/shipper.js';
import type { AgentEvent } from '../../../src/agent/types.js';
import { startTestCollector, type TestCollector } from './test-collector.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Rig {
  store: AgentStore;
  shipper: Shipper;
  collector: TestCollector;
  events: AgentEvent[];
}

/** A store holding `count` numbered records, a collector, and a shipper between them. */
async function rig(
  count: number,
  options: { collectorDown?: boolean; batchSize?: number; sleep?: (ms: number, signal: AbortSignal) => Promise<void> } = {},
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-shipper-'));
  const store = openAgentStore(join(dir, 'agent.db'), { maxRecords: 100_000 });
  const collector = await startTestCollector({ startDown: options.collectorDown ?? false });
  const records = Array.from({ length: count }, (_, i) =>
    encodeLogRecord({ timeUnixNano: BigInt(i + 1), observedTimeUnixNano: BigInt(i + 1), severityNumber: 9, severityText: 'INFO', body: `line ${i}`, attributes: {} }),
  );
  store.enqueue({ containerId: 'c1', resource: encodeResource({ 'service.name': 'svc' }), records, cursor: { timeNs: BigInt(count), atTime: 1 } });
  const events: AgentEvent[] = [];
  const shipper = startShipper({
    store,
    url: `${collector.url}/v1/logs`,
    headers: { authorization: 'Bearer shipper-test' },
    batchSize: options.batchSize ?? 10,
    maxBatchBytes: 1 << 20,
    idleMs: 20,
    requestTimeoutMs: 5_000,
    backoff: { baseMs: 5, maxMs: 40 },
    maxRetryAfterMs: 60_000,
    onEvent: (event) => events.push(event),
    ...(options.sleep && { sleep: options.sleep }),
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  cleanups.push(() => collector.close());
  cleanups.push(() => shipper.finish(0));
  return { store, shipper, collector, events };
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const bodies = (collector: TestCollector): string[] => collector.records.map((record) => record.body);
const numbered = (count: number): string[] => Array.from({ length: count }, (_, i) => `line ${i}`);

describe('shipper', () => {
  it('delivers everything, in order, in batches, and empties the queue', async () => {
    const { store, collector } = await rig(35);
    await until(() => store.counts().inQueue === 0);
    expect(bodies(collector)).toEqual(numbered(35));
    expect(collector.requests).toEqual([10, 10, 10, 5]);
    expect(store.counts()).toMatchObject({ queued: 35, shipped: 35, dropped: { rejected: 0 } });
  });

  it('keeps retrying while the collector is down (connection refused), then delivers every record once it is up', async () => {
    const { store, collector, events } = await rig(25, { collectorDown: true });
    await until(() => events.filter((event) => event.type === 'retry').length >= 3);
    expect(store.counts()).toMatchObject({ shipped: 0, inQueue: 25 });
    expect(events.find((event) => event.type === 'retry')).toMatchObject({ reason: 'ECONNREFUSED' });
    await collector.up();
    await until(() => store.counts().inQueue === 0);
    expect(bodies(collector)).toEqual(numbered(25));
    expect(store.counts()).toMatchObject({ shipped: 25, dropped: { rejected: 0, queue_full: 0, disk_full: 0 } });
  });

  it('retries 5xx with backoff and the same batch, without losing or duplicating records', async () => {
    const { store, collector } = await rig(20);
    let calls = 0;
    collector.answer = () => (++calls <= 3 ? { status: 500 } : undefined);
    await until(() => store.counts().inQueue === 0);
    expect(bodies(collector)).toEqual(numbered(20));
    expect(collector.requests.slice(0, 4)).toEqual([10, 10, 10, 10]);
  });

  it('honours Retry-After on 429 and 503: it waits what the server asked before sending again', async () => {
    // The waits are recorded beside the requests instead of slept, so the order is what is checked, not durations.
    const timeline: string[] = [];
    const answers = [{ status: 429, headers: { 'retry-after': '7' } }, { status: 503, headers: { 'retry-after': '3' } }];
    const { store, collector } = await rig(5, {
      sleep: (ms) => {
        timeline.push(`wait ${ms}`);
        return Promise.resolve();
      },
    });
    collector.answer = () => {
      timeline.push('request');
      return answers.shift();
    };
    await until(() => store.counts().inQueue === 0);
    expect(timeline).toEqual(['request', 'wait 7000', 'request', 'wait 3000', 'request']);
    expect(bodies(collector)).toEqual(numbered(5));
    expect(collector.lastAuthorization).toBe('Bearer shipper-test');
  });

  it('treats Retry-After: 0 as a floor, not a reason to hurry: it still backs off', async () => {
    const waits: number[] = [];
    const answers = [{ status: 429, headers: { 'retry-after': '0' } }, { status: 429, headers: { 'retry-after': '0' } }];
    const { store, collector } = await rig(3, {
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    collector.answer = () => answers.shift();
    await until(() => store.counts().inQueue === 0);
    expect(waits).toHaveLength(2);
    expect(waits.every((ms) => ms > 0)).toBe(true);
  });

  it('drops a batch refused with 400 for good, counted as rejected, and goes on with the next', async () => {
    const { store, collector, events } = await rig(15);
    let calls = 0;
    collector.answer = () => (++calls === 1 ? { status: 400, headers: { 'content-type': 'text/plain' }, body: 'bad request' } : undefined);
    await until(() => store.counts().inQueue === 0);
    expect(store.counts()).toMatchObject({ shipped: 5, dropped: { rejected: 10 } });
    expect(bodies(collector)).toEqual(numbered(15).slice(10));
    expect(events).toContainEqual({ type: 'refused', records: 10, message: 'HTTP 400: bad request' });
    expect(collector.requests).toEqual([10, 5]);
  });

  it('counts records a 2xx answer rejects in partial_success as rejected', async () => {
    const { store, collector, events } = await rig(10);
    // ExportLogsServiceResponse { partial_success (1) { rejected_log_records (1) = 3, error_message (2) = "too old" } }
    const partial = Buffer.concat([Buffer.from([0x0a, 0x0b, 0x08, 0x03, 0x12, 0x07]), Buffer.from('too old')]);
    collector.answer = () => ({ status: 200, body: partial });
    await until(() => store.counts().inQueue === 0);
    expect(store.counts()).toMatchObject({ shipped: 7, dropped: { rejected: 3 } });
    expect(events).toContainEqual({ type: 'shipped', records: 7, rejected: 3, message: 'too old' });
  });

  it('halves the batch on 413 until it fits', async () => {
    const { store, collector } = await rig(8, { batchSize: 8 });
    collector.answer = (records) => (records > 2 ? { status: 413 } : undefined);
    await until(() => store.counts().inQueue === 0);
    expect(bodies(collector)).toEqual(numbered(8));
    expect(store.counts()).toMatchObject({ shipped: 8, dropped: { rejected: 0 } });
  });

  it('finish() gives up within its grace while the collector is down, leaving the records queued', async () => {
    const { store, shipper } = await rig(5, { collectorDown: true });
    await shipper.finish(50);
    expect(store.counts()).toMatchObject({ shipped: 0, inQueue: 5 });
  });
});
