import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetries, type AttemptOutcome } from '../../../examples/shop/shared/retry.js';

/** A fake clock: `wait` moves it on instead of sleeping. */
function clock(): { now: () => number; wait: (ms: number) => Promise<void>; waits: number[] } {
  let t = 0;
  const waits: number[] = [];
  return {
    now: () => t,
    wait: (ms) => {
      waits.push(ms);
      t += ms;
      return Promise.resolve();
    },
    waits,
  };
}

const failing = (): Promise<never> => Promise.reject(new Error('lost'));
const anyError = (outcome: AttemptOutcome<unknown>): boolean => !outcome.ok;

describe('withRetries', () => {
  it('tries up to `attempts` times, pausing with backoff and jitter, then throws the last error', async () => {
    const c = clock();
    const attempts: number[] = [];
    const run = withRetries(
      { attempts: 3, backoffMs: 100, totalMs: 10_000 },
      (n) => {
        attempts.push(n);
        return failing();
      },
      { retryable: anyError, random: () => 0.5, ...c },
    );
    await expect(run).rejects.toThrow('lost');
    expect(attempts).toEqual([1, 2, 3]);
    expect(c.waits).toEqual([75, 150]);
  });

  it('answers the first outcome that is not retryable', async () => {
    let n = 0;
    const value = await withRetries({ attempts: 5, backoffMs: 0, totalMs: 1_000 }, () => Promise.resolve(++n), {
      retryable: (outcome) => outcome.ok && outcome.value < 3,
      ...clock(),
    });
    expect(value).toBe(3);
  });

  it('answers a retryable value once the attempts are used up', async () => {
    const value = await withRetries({ attempts: 2, backoffMs: 0, totalMs: 1_000 }, () => Promise.resolve(503), { retryable: () => true, ...clock() });
    expect(value).toBe(503);
  });

  it('does not start a pause that would pass the deadline, and tells each attempt the time left', async () => {
    const c = clock();
    const left: number[] = [];
    const run = withRetries(
      { attempts: 10, backoffMs: 100, totalMs: 500 },
      (_n, remainingMs) => {
        left.push(remainingMs);
        return failing();
      },
      { retryable: anyError, random: () => 0.999, ...c },
    );
    await expect(run).rejects.toThrow('lost');
    // Pauses of ~100 and ~200 fit in 500 ms; the next (~400) would not.
    expect(c.waits.length).toBe(2);
    expect(left[0]).toBe(500);
    expect(left[2]).toBeLessThan(250);
  });

  it('reports each retry', async () => {
    const retries: number[] = [];
    await expect(
      withRetries({ attempts: 3, backoffMs: 0, totalMs: 1_000 }, failing, { retryable: anyError, onRetry: (n) => retries.push(n), ...clock() }),
    ).rejects.toThrow();
    expect(retries).toEqual([2, 3]);
  });
});

describe('backoffDelay', () => {
  it('doubles per retry, with a random factor from 0.5 to 1', () => {
    expect(backoffDelay(50, 1, 0)).toBe(25);
    expect(backoffDelay(50, 2, 0)).toBe(50);
    expect(backoffDelay(50, 3, 1)).toBe(200);
  });
});
