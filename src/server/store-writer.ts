/**
 * Who writes the telemetry store. In `flotilla serve` a worker thread does: inserting into SQLite
 * with its full-text index is most of ingest's cost, and on its own thread it runs while the main
 * thread reads and decodes the next requests. Tests and embedders write in process.
 */
import { Worker } from 'node:worker_threads';
import { FlotillaError } from '../core/errors.js';
import type { Evicted, RetentionPolicy, TelemetryStore } from '../telemetry/store/index.js';
import type { RecordsOf } from './ingest.js';
import type { OtlpSignal as Signal } from '../telemetry/otlp/index.js';

export interface StoreWriter {
  /** Stores one signal's records in one transaction; resolves with how many were new. */
  write<S extends Signal>(signal: S, records: RecordsOf[S][]): Promise<number>;
  enforceRetention(): Promise<Evicted>;
  close(): Promise<void>;
}

/** Writes on the calling thread, through `store`. */
export function inProcessWriter(store: TelemetryStore): StoreWriter {
  const insert: { [S in Signal]: (records: RecordsOf[S][]) => number } = {
    logs: (records) => store.insertLogs(records),
    traces: (records) => store.insertSpans(records),
    metrics: (records) => store.insertMetrics(records),
  };
  // The Promise constructor turns a failing store into a rejection, as the worker's answer would be.
  return {
    write: (signal, records) => new Promise((resolve) => resolve((insert[signal] as (records: unknown[]) => number)(records))),
    enforceRetention: () => new Promise((resolve) => resolve(store.enforceRetention())),
    close: () => Promise.resolve(),
  };
}

/** What the worker is asked to do, and what it answers (see store-writer-worker.ts). */
type WriterCall = { op: 'write'; signal: Signal; records: unknown[] } | { op: 'retention' } | { op: 'close' };
export type WriterRequest = WriterCall & { id: number };
export type WriterReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string; code?: string } | { ready: true } | { failed: string };

/**
 * Starts the worker in `script` (the bundled store-writer-worker) on the database `file`; resolves
 * once it opened the store. `onDied` hears of a worker that stopped unasked: the collector cannot
 * store anything more, and says so rather than answer 503 for ever.
 */
export async function workerWriter(script: string, file: string, retention: RetentionPolicy, onDied: (error: Error) => void): Promise<StoreWriter> {
  const worker = new Worker(script, { workerData: { file, retention } });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  let exited: Error | undefined;
  let closing = false;
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: WriterReply) => {
      if ('ready' in message) resolve();
      else reject(new FlotillaError('TELEMETRY_STORE', 'failed' in message ? message.failed : 'the store writer did not start'));
    });
  });
  worker.on('message', (message: WriterReply) => {
    if (!('id' in message)) return;
    const call = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.ok) call?.resolve(message.result);
    // The store's own error code survives the thread boundary: ingest tells a bad record from a failing store by it.
    else call?.reject(new FlotillaError(message.code ?? 'TELEMETRY_STORE', message.message));
  });
  let crash: Error | undefined;
  worker.on('error', (error) => {
    crash = error;
  });
  worker.on('exit', (code) => {
    exited = new FlotillaError('TELEMETRY_STORE', `the store writer thread stopped (exit code ${code}${crash ? `: ${crash.message}` : ''})`);
    for (const call of waiting.values()) call.reject(exited);
    waiting.clear();
    if (!closing) onDied(exited);
  });
  const ask = <T>(request: WriterCall): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = (next += 1);
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ ...request, id });
    });
  };
  return {
    write: (signal, records) => ask<number>({ op: 'write', signal, records }),
    enforceRetention: () => ask<Evicted>({ op: 'retention' }),
    async close() {
      closing = true;
      if (exited) return;
      const done = new Promise((resolve) => worker.once('exit', resolve));
      await ask<void>({ op: 'close' }).catch(() => undefined);
      await done;
    },
  };
}
