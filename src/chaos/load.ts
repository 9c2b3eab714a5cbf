/**
 * The load driven during the method: requests at a steady rate, bounded three ways — never more
 * than ceil(rate × duration) requests, never more than `concurrency` in flight, and nothing sent
 * after the duration (requests in flight end within their own timeout).
 */
import { parseDuration } from '../spec/duration.js';
import type { HttpRequestSpec, LoadSpec } from '../spec/types.js';
import type { Clock } from './clock.js';
import type { HttpOutcome } from './expectations.js';
import type { LoadStats } from './types.js';

/** One request's result, as the load records it. */
export interface LoadSample {
  /** HTTP status as text, or the failure class (`timeout`, `refused`, `reset`, `error`). */
  outcome: string;
  ms: number;
  answered: boolean;
}

/** What the load needs from outside: a clock and a way to send one request. */
export interface LoadDeps {
  clock: Clock;
  send: (request: HttpRequestSpec, signal: AbortSignal) => Promise<HttpOutcome>;
}

/** A running load. */
export interface RunningLoad {
  /** Requests sent so far (steps that last a number of requests count these). */
  readonly sent: number;
  /** Resolves once `sent` reaches `count`, or when the load ends first (then false). */
  reached(count: number): Promise<boolean>;
  /** Settles when every request has ended. */
  readonly done: Promise<LoadStats>;
  /** Stops sending; requests in flight are aborted. */
  stop(): void;
}

/** The most requests `load` may send. */
export function plannedRequests(load: Pick<LoadSpec, 'rate' | 'duration'>): number {
  return Math.ceil((load.rate * parseDuration(load.duration)) / 1000);
}

/** Starts sending `load`; stops by itself at its bounds, or on `stop()`. */
export function startLoad(load: LoadSpec, deps: LoadDeps): RunningLoad {
  const { clock } = deps;
  const planned = plannedRequests(load);
  const durationMs = parseDuration(load.duration);
  const interval = 1000 / load.rate;
  const controller = new AbortController();
  const samples: LoadSample[] = [];
  const inFlight = new Set<Promise<void>>();
  const waiters: { count: number; resolve: (reached: boolean) => void }[] = [];
  let sent = 0;
  let ended = false;
  const started = clock.now();

  const notify = () => {
    for (const waiter of [...waiters]) {
      if (sent >= waiter.count || ended) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(sent >= waiter.count);
      }
    }
  };

  const fire = () => {
    sent++;
    const request = deps
      .send(load.request, controller.signal)
      .then((outcome) => {
        samples.push('error' in outcome ? { outcome: outcome.reason, ms: outcome.ms, answered: false } : { outcome: String(outcome.status), ms: outcome.ms, answered: true });
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
    notify();
  };

  const loop = async (): Promise<LoadStats> => {
    for (let index = 0; index < planned && !controller.signal.aborted; index++) {
      const due = started + index * interval;
      await clock.sleep(due - clock.now(), controller.signal);
      // At the concurrency bound, wait for a request to end; a request due meanwhile goes late, never twice.
      while (inFlight.size >= load.concurrency && !controller.signal.aborted) await Promise.race(inFlight);
      if (controller.signal.aborted || clock.now() - started >= durationMs) break;
      fire();
    }
    ended = true;
    notify();
    await Promise.allSettled([...inFlight]);
    return summarizeLoad(samples, { planned, sent, durationMs: clock.now() - started });
  };
  const done = loop();

  return {
    get sent() {
      return sent;
    },
    reached(count) {
      if (sent >= count) return Promise.resolve(true);
      if (ended) return Promise.resolve(false);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    done,
    stop: () => controller.abort(),
  };
}

/** Counts per outcome and latency percentiles (nearest rank) of the answered requests and failures alike. */
export function summarizeLoad(samples: readonly LoadSample[], totals: { planned: number; sent: number; durationMs: number }): LoadStats {
  const statuses: Record<string, number> = {};
  for (const sample of samples) statuses[sample.outcome] = (statuses[sample.outcome] ?? 0) + 1;
  const latencies = samples.map((sample) => sample.ms).sort((a, b) => a - b);
  const rank = (q: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] ?? 0;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    planned: totals.planned,
    sent: totals.sent,
    completed: samples.length,
    errors: samples.filter((sample) => !sample.answered).length,
    statuses: Object.fromEntries(Object.entries(statuses).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    p50Ms: round(rank(0.5)),
    p99Ms: round(rank(0.99)),
    maxMs: round(latencies[latencies.length - 1] ?? 0),
    durationMs: Math.round(totals.durationMs),
  };
}
