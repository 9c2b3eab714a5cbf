/**
 * Retries for calls between the shop's services: a few attempts, a small exponential backoff with
 * jitter, and a deadline for the whole, so that retries never hold a caller much longer than one
 * slow attempt would. Only for calls that are safe to repeat (they carry an idempotency key or an
 * order id the callee dedupes by); the caller decides which outcomes are worth another attempt.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** How often and how long to try. */
export interface RetryPolicy {
  /** Attempts in all, the first included: 1 means no retry. */
  attempts: number;
  /** Pause before retry n: `backoffMs` × 2^(n−1), times a random factor from 0.5 to 1. */
  backoffMs: number;
  /** Time for every attempt and pause together; no attempt starts after it. */
  totalMs: number;
}

/** What one attempt did: a value, or what it threw. */
export type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** What `withRetries` needs besides the policy; clock and randomness are injectable for tests. */
export interface RetryOptions<T> {
  /** Whether this outcome is worth another attempt (a lost answer, a 502/503/504). */
  retryable: (outcome: AttemptOutcome<T>) => boolean;
  /** Called before each retry, with the number of the attempt to come and the last outcome. */
  onRetry?: (attempt: number, outcome: AttemptOutcome<T>) => void;
  random?: () => number;
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}

/** The pause before retry number `retry` (1 for the first retry), given a random number in [0, 1). */
export function backoffDelay(backoffMs: number, retry: number, random: number): number {
  return backoffMs * 2 ** (retry - 1) * (0.5 + random / 2);
}

/**
 * Runs `attempt` (given its number, from 1, and the milliseconds left) until it gives an outcome
 * that is not retryable, the attempts are used up, or the next pause would pass the deadline;
 * then answers the last outcome: its value, or throws its error.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: (n: number, remainingMs: number) => Promise<T>, options: RetryOptions<T>): Promise<T> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const wait = options.wait ?? sleep;
  const deadline = now() + policy.totalMs;
  for (let n = 1; ; n++) {
    let outcome: AttemptOutcome<T>;
    try {
      outcome = { ok: true, value: await attempt(n, Math.max(1, deadline - now())) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const pause = backoffDelay(policy.backoffMs, n, random());
    if (n >= policy.attempts || !options.retryable(outcome) || now() + pause >= deadline) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    options.onRetry?.(n + 1, outcome);
    await wait(pause);
  }
}
