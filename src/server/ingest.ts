/**
 * The collector's write path: decoded records wait in memory, bounded, and go to the store in
 * group commits — every request that arrived while the last transaction ran is written in the
 * next one, and each request is answered only once its records are committed. So an OTLP success
 * means "stored" (an agent may delete its copy), and memory never holds more than the bound:
 * past it, requests are refused with 429 for the sender to retry later.
 */
import type { LogRecord, MetricPointRecord, SpanRecord } from '../telemetry/types.js';
import type { Signal } from './otlp-response.js';
import type { StoreWriter } from './store-writer.js';

/** Records of each signal, as the decoder gives them. */
export interface RecordsOf {
  logs: LogRecord;
  traces: SpanRecord;
  metrics: MetricPointRecord;
}

export interface IngestLimits {
  /** Records accepted but not yet committed, across signals. Past it: 429. */
  maxPendingRecords: number;
  /** A commit starts as soon as this many records wait… */
  commitRecords: number;
  /** …or this long after the first one arrived. */
  commitDelayMs: number;
}

export const defaultIngestLimits: Readonly<IngestLimits> = Object.freeze({
  maxPendingRecords: 20_000,
  commitRecords: 4_096,
  commitDelayMs: 20,
});

/** Why a request is refused before it is stored: over the memory bound (429) or the store failing (503). */
export class IngestRefused extends Error {
  override readonly name = 'IngestRefused';
  constructor(
    readonly status: 429 | 503,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Counters for `stats` and the benchmarks. */
export interface IngestCounters {
  /** Records committed, per signal. */
  accepted: Record<Signal, number>;
  /** Requests refused: over the bounds (429), or because the store failed (503). */
  refused: { overloaded: number; unavailable: number };
  commits: number;
  pendingRecords: number;
}

interface Waiting {
  signal: Signal;
  records: unknown[];
  resolve: (stored: number) => void;
  reject: (error: unknown) => void;
}

export interface Ingest {
  /** Throws IngestRefused when a request of `records` records cannot be taken now. */
  admit(records: number): void;
  /** Resolves with the records stored once they are committed; rejects with IngestRefused(503) when the store fails. */
  submit<S extends Signal>(signal: S, records: RecordsOf[S][]): Promise<number>;
  counters(): IngestCounters;
  /** Refuses anything new and resolves once what waits is committed. */
  close(): Promise<void>;
}

/** How long a sender should wait before retrying, in seconds. */
const RETRY_AFTER_OVERLOADED_S = 1;
const RETRY_AFTER_UNAVAILABLE_S = 5;
const SIGNALS = ['logs', 'traces', 'metrics'] as const;

export function createIngest(writer: StoreWriter, limits: IngestLimits = defaultIngestLimits): Ingest {
  let waiting: Waiting[] = [];
  let waitingRecords = 0;
  let pending = 0;
  let timer: NodeJS.Timeout | undefined;
  let committing: Promise<void> | undefined;
  let closed = false;
  const counters: IngestCounters = {
    accepted: { logs: 0, traces: 0, metrics: 0 },
    refused: { overloaded: 0, unavailable: 0 },
    commits: 0,
    pendingRecords: 0,
  };

  // One commit at a time; what arrives meanwhile waits for the next, which starts as soon as this one ends.
  const schedule = (): void => {
    if (committing || waiting.length === 0) return;
    if (waitingRecords >= limits.commitRecords || closed) {
      clearTimeout(timer);
      timer = undefined;
      committing = commit().finally(() => {
        committing = undefined;
        schedule();
      });
    } else {
      timer ??= setTimeout(() => {
        timer = undefined;
        committing ??= commit().finally(() => {
          committing = undefined;
          schedule();
        });
      }, limits.commitDelayMs);
    }
  };

  const commit = async (): Promise<void> => {
    const batch = waiting;
    waiting = [];
    waitingRecords = 0;
    for (const signal of SIGNALS) {
      const requests = batch.filter((request) => request.signal === signal);
      if (requests.length === 0) continue;
      const records = requests.length === 1 ? (requests[0]?.records ?? []) : requests.flatMap((request) => request.records);
      try {
        const stored = await writer.write(signal, records as never[]);
        counters.accepted[signal] += records.length;
        // The store reports the batch's new records (spans sent twice are kept once); shared out in order.
        let left = stored;
        for (const request of requests) {
          const mine = Math.min(left, request.records.length);
          left -= mine;
          request.resolve(mine);
        }
      } catch (error) {
        counters.refused.unavailable += requests.length;
        const reason = error instanceof Error ? error.message : String(error);
        for (const request of requests) {
          request.reject(new IngestRefused(503, `the telemetry store failed: ${reason}`, RETRY_AFTER_UNAVAILABLE_S));
        }
      }
      for (const request of requests) pending -= request.records.length;
    }
    counters.commits += 1;
  };

  return {
    admit(records) {
      if (closed) throw new IngestRefused(503, 'the collector is shutting down', RETRY_AFTER_UNAVAILABLE_S);
      if (pending + records > limits.maxPendingRecords) {
        counters.refused.overloaded += 1;
        throw new IngestRefused(
          429,
          `the collector holds ${pending} records not yet stored (limit ${limits.maxPendingRecords}); retry later`,
          RETRY_AFTER_OVERLOADED_S,
        );
      }
    },
    submit(signal, records) {
      this.admit(records.length);
      if (records.length === 0) return Promise.resolve(0);
      return new Promise<number>((resolve, reject) => {
        waiting.push({ signal, records, resolve, reject });
        waitingRecords += records.length;
        pending += records.length;
        schedule();
      });
    },
    counters() {
      return { ...counters, accepted: { ...counters.accepted }, refused: { ...counters.refused }, pendingRecords: pending };
    },
    async close() {
      closed = true;
      schedule();
      while (committing) await committing;
    },
  };
}
