/**
 * The delivery loop: takes the oldest batch from the queue, sends it, and settles it by the
 * answer; a batch leaves the queue only once answered (acknowledged or refused for good). One
 * request at a time keeps order and makes "oldest first" the whole scheduling policy.
 */
import type { AgentStore } from './agent-store.js';
import { sleep } from '../core/sleep.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { encodeLogsRequest } from './otlp-encode.js';
import { sendBatch } from './send-batch.js';
import type { AgentEventListener } from './types.js';

/** Options of createShipper. */
export interface ShipperOptions {
  store: AgentStore;
  /** The full URL: `{endpoint}/v1/logs`. */
  url: string;
  headers: Record<string, string>;
  batchSize: number;
  maxBatchBytes: number;
  /** How long an idle shipper waits before looking at the queue again (enqueue also wakes it). */
  idleMs: number;
  requestTimeoutMs: number;
  backoff: BackoffPolicy;
  /** Retry-After beyond this is cut to it, so one odd header cannot stall delivery for hours. */
  maxRetryAfterMs: number;
  onEvent: AgentEventListener;
  /** How retries wait (tests record the waits instead of sleeping); default a real, abortable sleep. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A running delivery loop. */
export interface Shipper {
  /** Looks at the queue now (records were queued). */
  wake(): void;
  /** Ships until the queue is empty or `graceMs` passed, then ends; resolves once the loop ended. */
  finish(graceMs: number): Promise<void>;
}

/** Starts delivering from `options.store`. */
export function startShipper(options: ShipperOptions): Shipper {
  const { store, onEvent } = options;
  const wait = options.sleep ?? sleep;
  const stop = new AbortController();
  let draining = false;
  let wakeUp: (() => void) | undefined;

  const idle = async (): Promise<void> => {
    const woken = new Promise<void>((resolve) => (wakeUp = resolve));
    await Promise.race([woken, sleep(options.idleMs, stop.signal)]);
    wakeUp = undefined;
  };

  const loop = async (): Promise<void> => {
    let attempt = 0;
    let limit = options.batchSize;
    while (!stop.signal.aborted) {
      const batch = store.nextBatch(limit, options.maxBatchBytes);
      if (!batch) {
        if (draining) return;
        await idle();
        continue;
      }
      const outcome = await sendBatch(options.url, encodeLogsRequest(batch.groups), { timeoutMs: options.requestTimeoutMs, signal: stop.signal, headers: options.headers });
      if (stop.signal.aborted) return;
      try {
        if (outcome.kind === 'accepted') {
          store.settle(batch, outcome.rejected);
          onEvent({ type: 'shipped', records: batch.count - outcome.rejected, rejected: outcome.rejected, message: outcome.message });
          if (outcome.rejected > 0) onEvent({ type: 'dropped', reason: 'rejected', records: outcome.rejected });
          attempt = 0;
          limit = options.batchSize;
        } else if (outcome.kind === 'refused') {
          store.settle(batch, batch.count);
          onEvent({ type: 'refused', records: batch.count, message: outcome.message });
          onEvent({ type: 'dropped', reason: 'rejected', records: batch.count });
        } else if (outcome.kind === 'too-large' && batch.count > 1) {
          limit = Math.max(1, Math.floor(batch.count / 2));
        } else if (outcome.kind === 'too-large') {
          store.settle(batch, 1);
          onEvent({ type: 'refused', records: 1, message: 'HTTP 413: a single record is larger than the endpoint accepts' });
          onEvent({ type: 'dropped', reason: 'rejected', records: 1 });
        } else {
          // Retry-After is a floor, never a reason to hurry: `0` or a date gone by still backs off.
          const backoff = backoffDelay(attempt, options.backoff);
          const delayMs = outcome.afterMs !== undefined ? Math.max(Math.min(outcome.afterMs, options.maxRetryAfterMs), backoff) : backoff;
          attempt += 1;
          onEvent({ type: 'retry', reason: outcome.reason, delayMs });
          await wait(delayMs, stop.signal);
        }
      } catch (error) {
        // The answer came but the queue could not be updated (disk trouble): the batch stays and
        // is sent again later — a duplicate at worst, never a loss.
        onEvent({ type: 'warning', message: `could not settle a delivered batch: ${(error as Error).message}` });
        await wait(backoffDelay(attempt++, options.backoff), stop.signal);
      }
    }
  };

  const running = loop().catch((error: unknown) => {
    onEvent({ type: 'warning', message: `delivery stopped: ${(error as Error).message}` });
  });
  return {
    wake: () => wakeUp?.(),
    async finish(graceMs) {
      draining = true;
      wakeUp?.();
      const timer = setTimeout(() => stop.abort(), graceMs);
      try {
        await running;
      } finally {
        clearTimeout(timer);
        stop.abort();
      }
    },
  };
}
