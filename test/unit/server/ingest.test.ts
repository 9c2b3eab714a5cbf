/** The ingest's group commits: bounds in records and bytes, a bad record answered alone, shutdown that answers everyone. */
import { describe, expect, test } from 'vitest';
import { createIngest, defaultIngestLimits, IngestRefused } from '../../../src/server/ingest.js';
import type { StoreWriter } from '../../../src/server/store-writer.js';
import { FlotillaError } from '../../../src/core/errors.js';
import type { LogRecord } from '../../../src/telemetry/types.js';

const log = (body: string): LogRecord => ({
  timeUnixNano: '1', observedTimeUnixNano: '1', severityNumber: 9, severityText: 'INFO', body, service: 's', traceId: '', spanId: '', attributes: {}, resource: {}, scope: { name: '', version: '' },
});

/** A writer that records each transaction, and refuses a record whose body is "bad" the way the store does. */
function recordingWriter(): StoreWriter & { transactions: string[][] } {
  const transactions: string[][] = [];
  return {
    transactions,
    write: (_signal, records) => {
      const bodies = (records as LogRecord[]).map((record) => record.body);
      if (bodies.includes('bad')) return Promise.reject(new FlotillaError('TELEMETRY_BAD_RECORD', 'timeUnixNano is not a Unix time'));
      transactions.push(bodies);
      return Promise.resolve(records.length);
    },
    enforceRetention: () => Promise.resolve({ logs: 0, spans: 0, metrics: 0 }),
    close: () => Promise.resolve(),
  };
}

/** A writer whose transactions end when the test says so. */
function gatedWriter(): StoreWriter & { transactions: string[][]; finish: () => void } {
  const transactions: string[][] = [];
  const open: (() => void)[] = [];
  return {
    transactions,
    finish: () => open.shift()?.(),
    write: (_signal, records) => {
      transactions.push((records as LogRecord[]).map((record) => record.body));
      return new Promise((resolve) => open.push(() => resolve(records.length)));
    },
    enforceRetention: () => Promise.resolve({ logs: 0, spans: 0, metrics: 0 }),
    close: () => Promise.resolve(),
  };
}

/** One turn of the event loop: immediates queued before this one have run. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ingest', () => {
  test('by default a request that finds the writer idle is committed on the next turn, not held for a delay', async () => {
    const writer = gatedWriter();
    const ingest = createIngest(writer);
    const stored = ingest.submit('logs', [log('alone')], 1);
    expect(writer.transactions).toEqual([]);
    await nextTurn();
    expect(writer.transactions).toEqual([['alone']]);
    writer.finish();
    await expect(stored).resolves.toBe(1);
  });

  test('requests that arrive while a commit runs wait for it, then go together in the next transaction', async () => {
    const writer = gatedWriter();
    const ingest = createIngest(writer);
    const first = ingest.submit('logs', [log('first')], 1);
    await nextTurn();
    const later = [ingest.submit('logs', [log('second')], 1), ingest.submit('logs', [log('third')], 1)];
    await nextTurn();
    expect(writer.transactions).toEqual([['first']]);
    writer.finish();
    await expect(first).resolves.toBe(1);
    await nextTurn();
    expect(writer.transactions).toEqual([['first'], ['second', 'third']]);
    writer.finish();
    await expect(Promise.all(later)).resolves.toEqual([1, 1]);
    expect(ingest.counters()).toMatchObject({ commits: 2, pendingRecords: 0 });
  });

  test('requests that arrive together are committed in one transaction, each answered with its own count', async () => {
    const writer = recordingWriter();
    const ingest = createIngest(writer, { ...defaultIngestLimits, commitDelayMs: 5 });
    const answers = await Promise.all([ingest.submit('logs', [log('a'), log('b')], 10), ingest.submit('logs', [log('c')], 5)]);
    expect(answers).toEqual([2, 1]);
    expect(writer.transactions).toEqual([['a', 'b', 'c']]);
    expect(ingest.counters()).toMatchObject({ pendingRecords: 0, pendingBytes: 0, accepted: { logs: 3 } });
  });

  test('refuses with 429 past the records bound or the bytes bound, storing nothing of the refused request', async () => {
    const writer = recordingWriter();
    const ingest = createIngest(writer, { ...defaultIngestLimits, maxPendingRecords: 3, maxPendingBytes: 1000, commitDelayMs: 5 });
    expect(() => ingest.admit(4, 0)).toThrow(IngestRefused);
    const first = ingest.submit('logs', [log('fits')], 900);
    await expect(ingest.submit('logs', [log('too big')], 200)).rejects.toMatchObject({ status: 429, retryAfterSeconds: 1 });
    expect(() => ingest.admit(1, 0)).not.toThrow();
    await first;
    expect(writer.transactions).toEqual([['fits']]);
    expect(ingest.counters().refused.overloaded).toBe(2);
  });

  test('a record the store refuses fails only its own request, with 400; the others are stored', async () => {
    const writer = recordingWriter();
    const ingest = createIngest(writer, { ...defaultIngestLimits, commitDelayMs: 5 });
    const results = await Promise.allSettled([
      ingest.submit('logs', [log('good 1')], 1),
      ingest.submit('logs', [log('bad'), log('innocent bystander in the same request')], 1),
      ingest.submit('logs', [log('good 2')], 1),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ status: 400 });
    expect(writer.transactions).toEqual([['good 1'], ['good 2']]);
    expect(ingest.counters()).toMatchObject({ refused: { invalid: 1 }, pendingRecords: 0 });
  });

  test('a failing store answers 503 with Retry-After; close() commits what waits and refuses what comes after', async () => {
    const failing: StoreWriter = { ...recordingWriter(), write: () => Promise.reject(new Error('disk I/O error')) };
    const ingest = createIngest(failing, { ...defaultIngestLimits, commitDelayMs: 5 });
    await expect(ingest.submit('logs', [log('x')], 1)).rejects.toMatchObject({ status: 503, retryAfterSeconds: 5 });

    const writer = recordingWriter();
    const closing = createIngest(writer, { ...defaultIngestLimits, commitDelayMs: 60_000 });
    const waiting = closing.submit('logs', [log('in flight')], 1);
    await closing.close();
    await expect(waiting).resolves.toBe(1);
    expect(writer.transactions).toEqual([['in flight']]);
    expect(() => closing.admit(1, 0)).toThrow(/shutting down/);
  });
});
