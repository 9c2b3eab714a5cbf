/**
 * The collector's write path: decoded records wait in memory, bounded, and go to the store in
 * group commits — every request that arrived while the last transaction ran is written in the
 * next one, and each request is answered only once its records are committed. So an OTLP success
 * means "stored" (an agent may delete its copy), and memory never holds more than the bound:
 * past it, requests are refused with 429 for the sender to retry later.
 *
 * A request that finds the writer idle is committed at once (on the next turn of the event loop,
 * with whatever else arrived in the same turn), not held for a delay: exporters send one request
 * at a time and, while it is out, queue what comes next. Held 20 ms, a trickle of spans became a
 * stream of tiny requests (the mesh proxy's 200 spans/s arrived as ~45 requests/s of 2–3 spans,
 * 60 ms of collector CPU a second); answered in a few milliseconds, the same spans come in one or
 * two requests a second. Under load, commits run back to back and the batches grow by themselves.
 */
import type { LogRecord, MetricPointRecord, SpanRecord } from '../telemetry/types.js';
import type { OtlpSignal as Signal } from '../telemetry/otlp/index.js';
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
  /** Their approximate size in memory (see record-size.ts). Past it: 429. */
  maxPendingBytes: number;
  /** A commit starts as soon as this many records wait… */
  commitRecords: number;
  /** …or this long after the first one arrived; 0 (the default): as soon as the writer is free, on the next turn of the event loop. */
  commitDelayMs: number;
}

export const defaultIngestLimits: Readonly<IngestLimits> = Object.freeze({
  maxPendingRecords: 20_000,
  maxPendingBytes: 64 * 1024 * 1024,
  commitRecords: 4_096,
  commitDelayMs: 0,
});

/**
 * Why a request is refused before it is stored: over the memory bound (429), the store failing
 * (503), or a record the store cannot hold (400: retrying would fail again).
 */
export class IngestRefused extends Error {
  override readonly name = 'IngestRefused';
  constructor(
    readonly status: 400 | 429 | 503,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Counters for `stats` and the benchmarks. */
export interface IngestCounters {
  /** Records committed, per signal (spans sent twice count twice; the store keeps one). */
  accepted: Record<Signal, number>;
  /** Requests refused: over the bounds (429), or because the store failed (503). */
  refused: { overloaded: number; unavailable: number; invalid: number };
  commits: number;
  pendingRecords: number;
  pendingBytes: number;
}

interface Waiting {
  signal: Signal;
  records: unknown[];
  bytes: number;
  resolve: (stored: number) => void;
  reject: (error: unknown) => void;
}

export interface Ingest {
  /** Throws IngestRefused when `records` records of about `bytes` bytes cannot be taken now; `admit(1, 0)` asks whether there is any room. */
  admit(records: number, bytes: number): void;
  /** Resolves with the records stored once they are committed; rejects with IngestRefused when the store fails or cannot hold them. */
  submit<S extends Signal>(signal: S, records: RecordsOf[S][], bytes: number): Promise<number>;
  counters(): IngestCounters;
  /** Refuses anything new and resolves once what waits is committed. */
  close(): Promise<void>;
}

/** How long a sender should wait before retrying, in seconds. */
const RETRY_AFTER_OVERLOADED_S = 1;
const RETRY_AFTER_UNAVAILABLE_S = 5;
const SIGNALS = ['logs', 'traces', 'metrics'] as const;
/** The store's code for a record it refuses (see telemetry/store/rows.ts). */
const BAD_RECORD = 'TELEMETRY_BAD_RECORD';

export function createIngest(writer: StoreWriter, limits: IngestLimits = defaultIngestLimits): Ingest {
  let waiting: Waiting[] = [];
  let waitingRecords = 0;
  let pending = 0;
  let pendingBytes = 0;
  /** The pending start of the next commit: a timer when commits are delayed, else an immediate. */
  let timer: { cancel: () => void } | undefined;
  let committing: Promise<void> | undefined;
  let closed = false;
  const counters: IngestCounters = {
    accepted: { logs: 0, traces: 0, metrics: 0 },
    refused: { overloaded: 0, unavailable: 0, invalid: 0 },
    commits: 0,
    pendingRecords: 0,
    pendingBytes: 0,
  };

  // One commit at a time; what arrives meanwhile waits for the next, which starts as soon as this one ends.
  const start = (): void => {
    timer?.cancel();
    timer = undefined;
    committing ??= commit().finally(() => {
      committing = undefined;
      schedule();
    });
  };
  const schedule = (): void => {
    if (committing || waiting.length === 0) return;
    if (waitingRecords >= limits.commitRecords || closed) start();
    else if (!timer && limits.commitDelayMs > 0) {
      const handle = setTimeout(start, limits.commitDelayMs);
      timer = { cancel: () => clearTimeout(handle) };
    } else if (!timer) {
      // Not within this call: the requests whose bodies were read in the same turn go in the same commit.
      const handle = setImmediate(start);
      timer = { cancel: () => clearImmediate(handle) };
    }
  };

  const commit = async (): Promise<void> => {
    const batch = waiting;
    waiting = [];
    waitingRecords = 0;
    for (const signal of SIGNALS) {
      const requests = batch.filter((request) => request.signal === signal);
      if (requests.length > 0) await write(signal, requests);
    }
    counters.commits += 1;
  };

  /** One transaction for the requests' records; if one record cannot be stored, each request alone, so only its own sender hears of it. */
  const settle = (request: Waiting): void => {
    pending -= request.records.length;
    pendingBytes -= request.bytes;
  };
  const write = async (signal: Signal, requests: Waiting[]): Promise<void> => {
    const records = requests.length === 1 ? (requests[0]?.records ?? []) : requests.flatMap((request) => request.records);
    try {
      const stored = await writer.write(signal, records as never[]);
      counters.accepted[signal] += records.length;
      // The store reports the batch's new records (spans sent twice are kept once); shared out in order.
      let left = stored;
      for (const request of requests) {
        const mine = Math.min(left, request.records.length);
        left -= mine;
        settle(request);
        request.resolve(mine);
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if ((error as { code?: unknown }).code === BAD_RECORD) {
        if (requests.length > 1) {
          for (const request of requests) await write(signal, [request]);
          return;
        }
        counters.refused.invalid += 1;
        for (const request of requests) {
          settle(request);
          request.reject(new IngestRefused(400, `a record cannot be stored: ${reason}`, 0));
        }
        return;
      }
      counters.refused.unavailable += requests.length;
      for (const request of requests) {
        settle(request);
        request.reject(new IngestRefused(503, `the telemetry store failed: ${reason}`, RETRY_AFTER_UNAVAILABLE_S));
      }
    }
  };

  return {
    admit(records, bytes) {
      if (closed) throw new IngestRefused(503, 'the collector is shutting down', RETRY_AFTER_UNAVAILABLE_S);
      if (pending + records > limits.maxPendingRecords || pendingBytes + bytes > limits.maxPendingBytes) {
        counters.refused.overloaded += 1;
        throw new IngestRefused(
          429,
          `the collector holds ${pending} records (${Math.round(pendingBytes / 1024)} KiB) not yet stored (limits ${limits.maxPendingRecords} records, ${Math.round(limits.maxPendingBytes / 1024)} KiB); retry later`,
          RETRY_AFTER_OVERLOADED_S,
        );
      }
    },
    submit(signal, records, bytes) {
      // A refusal thrown by admit() inside the executor becomes the promise's rejection.
      return new Promise<number>((resolve, reject) => {
        this.admit(records.length, bytes);
        if (records.length === 0) {
          resolve(0);
          return;
        }
        waiting.push({ signal, records, bytes, resolve, reject });
        waitingRecords += records.length;
        pending += records.length;
        pendingBytes += bytes;
        schedule();
      });
    },
    counters() {
      return { ...counters, accepted: { ...counters.accepted }, refused: { ...counters.refused }, pendingRecords: pending, pendingBytes };
    },
    async close() {
      closed = true;
      schedule();
      while (committing) await committing;
    },
  };
}
