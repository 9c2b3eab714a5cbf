/**
 * Per-proxy resilience: timeouts, retries with a budget, and outlier ejection. Settings arrive as
 * JSON (the `resilience` extension field of the Toxiproxy-compatible API, snake_case like Toxiproxy's
 * attributes) and are resolved here with every default applied.
 */
import * as z from 'zod';

/** Error classes an attempt can fail with, and that retries may be allowed on. */
export type AttemptErrorKind = 'connect' | 'reset' | 'timeout';

/** Resolved settings: nothing optional. */
export interface ResilienceSettings {
  /** Per attempt, until the upstream's response head arrives; 0 for none. */
  attemptTimeoutMs: number;
  /** Whole request, all attempts and backoffs, until the response head; 0 for none. */
  timeoutMs: number;
  /** Once the head has arrived: longest silence of the upstream's body before both sides are closed; 0 for none. */
  bodyIdleTimeoutMs: number;
  retries: {
    /** Total attempts, the first included: 1 means no retry. */
    attempts: number;
    onStatus: number[];
    onErrors: AttemptErrorKind[];
    /** Pause before a retry: `backoffMs` × 2^(retry−1), with full jitter. */
    backoffMs: number;
  };
  budget: {
    /** Retries allowed per request over the window (0.2: at most one retry per five requests). */
    ratio: number;
    windowMs: number;
    /** Retries allowed in the window whatever the traffic, so a quiet service can still retry. */
    minRetries: number;
  };
  ejection: {
    /** Consecutive failures (errors, or 5xx answers) that eject a replica; 0 disables ejection. */
    consecutiveFailures: number;
    coolOffMs: number;
  };
}

/** The JSON form of the settings, as the API takes and shows it. */
export const resilienceSchema = z.strictObject({
  attempt_timeout_ms: z.number().int().nonnegative().default(15_000),
  timeout_ms: z.number().int().nonnegative().default(30_000),
  body_idle_timeout_ms: z.number().int().nonnegative().default(60_000),
  retries: z
    .strictObject({
      attempts: z.number().int().min(1).max(10).default(1),
      on_status: z.array(z.number().int().min(100).max(599)).default([502, 503, 504]),
      on_errors: z.array(z.enum(['connect', 'reset', 'timeout'])).default(['connect', 'reset', 'timeout']),
      backoff_ms: z.number().int().nonnegative().max(60_000).default(10),
    })
    .prefault({}),
  budget: z
    .strictObject({
      ratio: z.number().min(0).max(10).default(0.2),
      window_ms: z.number().int().min(100).max(3_600_000).default(10_000),
      min_retries: z.number().int().nonnegative().default(3),
    })
    .prefault({}),
  ejection: z
    .strictObject({
      consecutive_failures: z.number().int().nonnegative().default(5),
      cool_off_ms: z.number().int().nonnegative().default(30_000),
    })
    .prefault({}),
});

/** The JSON form, defaults applied. */
export type ResilienceJson = z.output<typeof resilienceSchema>;

/** Input JSON for the settings: every field optional. */
export type ResilienceInput = z.input<typeof resilienceSchema>;

/** Resolves JSON settings (validated already) to the internal form. */
export function resolveResilience(json: ResilienceJson): ResilienceSettings {
  return {
    attemptTimeoutMs: json.attempt_timeout_ms,
    timeoutMs: json.timeout_ms,
    bodyIdleTimeoutMs: json.body_idle_timeout_ms,
    retries: { attempts: json.retries.attempts, onStatus: [...json.retries.on_status], onErrors: [...json.retries.on_errors], backoffMs: json.retries.backoff_ms },
    budget: { ratio: json.budget.ratio, windowMs: json.budget.window_ms, minRetries: json.budget.min_retries },
    ejection: { consecutiveFailures: json.ejection.consecutive_failures, coolOffMs: json.ejection.cool_off_ms },
  };
}

/** Renders settings back to their JSON form. */
export function resilienceToJson(settings: ResilienceSettings): ResilienceJson {
  return {
    attempt_timeout_ms: settings.attemptTimeoutMs,
    timeout_ms: settings.timeoutMs,
    body_idle_timeout_ms: settings.bodyIdleTimeoutMs,
    retries: { attempts: settings.retries.attempts, on_status: [...settings.retries.onStatus], on_errors: [...settings.retries.onErrors], backoff_ms: settings.retries.backoffMs },
    budget: { ratio: settings.budget.ratio, window_ms: settings.budget.windowMs, min_retries: settings.budget.minRetries },
    ejection: { consecutive_failures: settings.ejection.consecutiveFailures, cool_off_ms: settings.ejection.coolOffMs },
  };
}

/** Default settings: timeouts on, no retries, ejection after 5 consecutive failures. */
export function defaultResilience(): ResilienceSettings {
  return resolveResilience(resilienceSchema.parse({}));
}

/** Methods RFC 9110 §9.2.2 calls idempotent: safe to send again. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** The pause before retry number `retry`: exponential with full jitter (`random` is uniform in [0, 1)). */
export function backoffDelayMs(settings: ResilienceSettings, random: () => number, retry: number): number {
  return random() * settings.retries.backoffMs * 2 ** (retry - 1);
}

/** Whether a request may be retried (or duplicated on purpose): an idempotent method, or an Idempotency-Key. */
export function isRetryable(method: string, headers: Readonly<Record<string, unknown>>): boolean {
  return IDEMPOTENT.has(method) || headers['idempotency-key'] !== undefined;
}

const BUCKETS = 10;

/**
 * Retries allowed over a sliding window: at most `minRetries + ratio × requests` in the last
 * `windowMs` (Finagle's RetryBudget shape). Counts live in ten buckets of a tenth of the window
 * each, so the memory is fixed and old traffic ages out in steps.
 */
export class RetryBudget {
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  private bucket = 0;
  private bucketStart: number;
  private settings: ResilienceSettings['budget'];
  /** Retries refused by the budget, over the budget's life. */
  refused = 0;

  constructor(
    settings: ResilienceSettings['budget'],
    private readonly now: () => number = () => performance.now(),
  ) {
    this.settings = settings;
    this.bucketStart = now();
  }

  /** Takes new settings; counts so far are kept. */
  configure(settings: ResilienceSettings['budget']): void {
    this.settings = settings;
  }

  /** Counts one request (not a retry). */
  recordRequest(): void {
    this.advance();
    this.requests[this.bucket] = (this.requests[this.bucket] ?? 0) + 1;
  }

  /** Takes one retry from the budget if there is one; false (and counted as refused) otherwise. */
  tryRetry(): boolean {
    this.advance();
    const requests = sum(this.requests);
    const retries = sum(this.retries);
    if (retries + 1 > this.settings.minRetries + this.settings.ratio * requests) {
      this.refused++;
      return false;
    }
    this.retries[this.bucket] = (this.retries[this.bucket] ?? 0) + 1;
    return true;
  }

  private advance(): void {
    const width = this.settings.windowMs / BUCKETS;
    const now = this.now();
    let steps = Math.floor((now - this.bucketStart) / width);
    if (steps <= 0) return;
    this.bucketStart += steps * width;
    if (steps > BUCKETS) steps = BUCKETS;
    for (let i = 0; i < steps; i++) {
      this.bucket = (this.bucket + 1) % BUCKETS;
      this.requests[this.bucket] = 0;
      this.retries[this.bucket] = 0;
    }
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
