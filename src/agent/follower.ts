/**
 * Follows one container's logs for as long as it exists: reads from its cursor, turns lines into
 * encoded records, and queues them in batches, each with the cursor just past it. When the
 * container stops the Engine ends the stream; the follower waits for the container to start
 * again (or to be removed) and reads on from the cursor.
 *
 * Resuming: the Engine's `since` is inclusive, so reading from the cursor's time returns again
 * the lines that carried exactly that time; the cursor counts them (`atTime`) and that many are
 * skipped. Lines keep their order, so the skipped ones are the ones already queued.
 *
 * A state file that cannot be written (not a full disk: that drops and counts inside the store)
 * must not make lines pile up in memory: the follower lets go of what it read, rewinds to the
 * cursor last written, and reads again from there after a backoff. The Engine keeps the lines.
 */
import type { Driver, LogLine, ObservedContainer } from '../runtime/driver.js';
import type { AgentStore, Cursor, EnqueueResult } from './agent-store.js';
import { sleep } from '../core/sleep.js';
import { backoffDelay } from './backoff.js';
import { nowNs, nsFromRfc3339, sinceText } from './log-time.js';
import { encodeLogRecord } from './otlp-encode.js';
import { parseLogLine } from './parse-line.js';
import type { AgentEventListener } from './types.js';

/** What a follower needs. */
export interface FollowerOptions {
  driver: Driver;
  store: AgentStore;
  /** The encoded resource of this container's records. */
  resource: Buffer;
  batchSize: number;
  /** Longest a read line waits in memory before it is queued. */
  flushIntervalMs: number;
  onEvent: AgentEventListener;
  /** Called after records were queued (wakes the shipper). */
  onQueued: () => void;
}

/** Follows one container until it is removed or the agent stops. */
export class ContainerFollower {
  private cursor: Cursor | undefined;
  /** The cursor as the state file holds it: where a rewind reads from again. */
  private persisted: Cursor | undefined;
  /** Set when queuing failed: the current read stops and starts again from `persisted`. */
  private rewind: AbortController | undefined;
  private rewinds = 0;
  private pending: Buffer[] = [];
  private startedAgain = false;
  private wakeUp: (() => void) | undefined;
  private removed = false;

  constructor(
    readonly container: ObservedContainer,
    private readonly options: FollowerOptions,
  ) {
    this.cursor = options.store.cursor(container.id);
    this.persisted = this.cursor;
  }

  /** The container started (again): read on from the cursor once the current stream has ended. */
  started(): void {
    this.startedAgain = true;
    this.wakeUp?.();
  }

  /** The container was removed: stop once its last lines are read. */
  destroyed(): void {
    this.removed = true;
    this.wakeUp?.();
  }

  /** Reads until the container is gone or `signal` aborts; everything read is queued before it resolves. */
  async run(signal: AbortSignal): Promise<void> {
    const timer = setInterval(() => this.flush(), this.options.flushIntervalMs);
    let emptyReads = 0;
    try {
      while (!signal.aborted && !this.removed) {
        this.startedAgain = false;
        let read = 0;
        try {
          read = await this.readStream(signal);
        } catch (error) {
          if (signal.aborted) break;
          if (!this.rewind?.signal.aborted) {
            this.options.onEvent({ type: 'warning', message: `reading the logs of ${this.container.name} failed: ${(error as Error).message}` });
          }
        }
        this.flush();
        if (signal.aborted || this.removed) break;
        if (this.rewind?.signal.aborted) {
          this.rewinds += 1;
          await sleep(backoffDelay(this.rewinds - 1, { baseMs: 500, maxMs: 30_000 }), signal);
          continue;
        }
        // The Engine ends the stream when the container stops; an unreachable Engine is not a removal.
        const current = await this.options.driver.inspectContainer(this.container.id).catch(() => this.container);
        if (!current) break;
        if (current.state !== 'running' && !this.startedAgain) {
          emptyReads = 0;
          await this.nextChange(signal);
          continue;
        }
        // Running, yet the stream ended: after a quick restart that is normal, but a stream that ends
        // at once again and again (a log driver the Engine cannot read) must not spin.
        emptyReads = read > 0 ? 0 : emptyReads + 1;
        if (emptyReads > 0) await sleep(backoffDelay(emptyReads - 1, { baseMs: 500, maxMs: 30_000 }), signal);
      }
    } finally {
      clearInterval(timer);
      this.flush();
    }
  }

  /** Reads one stream to its end; returns how many new lines it gave. */
  private async readStream(signal: AbortSignal): Promise<number> {
    const rewind = (this.rewind = new AbortController());
    const from = this.cursor;
    let skip = from?.atTime ?? 0;
    let lastNs = from?.timeNs;
    const lines = this.options.driver.containerLogs(this.container.id, {
      follow: true,
      timestamps: false,
      lineTimes: true,
      signal: AbortSignal.any([signal, rewind.signal]),
      ...(from && { since: sinceText(from.timeNs) }),
    });
    let read = 0;
    for await (const line of lines) {
      // Rewound: nothing more of this read may be queued, the next one starts from the persisted cursor.
      if (rewind.signal.aborted) break;
      const timeNs = (line.time !== undefined ? nsFromRfc3339(line.time) : undefined) ?? lastNs ?? nowNs();
      lastNs = timeNs;
      if (from && timeNs < from.timeNs) continue;
      if (from && timeNs === from.timeNs && skip > 0) {
        skip -= 1;
        continue;
      }
      this.accept(line, timeNs);
      read += 1;
    }
    return read;
  }

  private accept(line: LogLine, timeNs: bigint): void {
    const parsed = parseLogLine(line.text);
    this.pending.push(
      encodeLogRecord({
        timeUnixNano: parsed.timeNs ?? timeNs,
        observedTimeUnixNano: timeNs,
        severityNumber: parsed.severity.number,
        severityText: parsed.severity.text,
        body: parsed.body,
        attributes: { ...parsed.attributes, 'log.iostream': line.stream },
        ...(parsed.traceId !== undefined && { traceId: parsed.traceId, spanId: parsed.spanId }),
      }),
    );
    this.cursor = this.cursor?.timeNs === timeNs ? { timeNs, atTime: this.cursor.atTime + 1 } : { timeNs, atTime: 1 };
    if (this.pending.length >= this.options.batchSize) this.flush();
  }

  /** Queues the pending records with the cursor past them (synchronous: no line can slip in between). */
  private flush(): void {
    if (this.pending.length === 0 || !this.cursor) return;
    const records = this.pending;
    this.pending = [];
    let result: EnqueueResult;
    const cursor = this.cursor;
    try {
      result = this.options.store.enqueue({ containerId: this.container.id, resource: this.options.resource, records, cursor });
    } catch (error) {
      // Not a full disk (that is counted inside) but a failing state file: the cursor on disk has not
      // moved, so the lines are let go and read again from it (see the top of this file).
      this.cursor = this.persisted;
      this.rewind?.abort();
      this.options.onEvent({ type: 'warning', message: `could not queue ${records.length} lines of ${this.container.name}, reading them again later: ${(error as Error).message}` });
      return;
    }
    this.persisted = cursor;
    this.rewinds = 0;
    if (result.reason) this.options.onEvent({ type: 'dropped', reason: result.reason, records: result.dropped });
    if (result.queued > 0) this.options.onQueued();
  }

  private nextChange(signal: AbortSignal): Promise<void> {
    if (this.startedAgain || this.removed || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.wakeUp = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.wakeUp = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
