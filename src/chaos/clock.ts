import { sleep } from '../core/sleep.js';

/** Time as the runner sees it, so tests can control it; `sleep` ends early (without error) when `signal` aborts. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The system clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep,
};
