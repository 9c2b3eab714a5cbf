/**
 * Waiting between deliveries: capped exponential backoff with jitter (so many agents that lost
 * the same collector do not come back in step), the server's Retry-After when it gives one, and
 * sleeps that end early when the agent stops.
 */

/** Bounds of the backoff, in milliseconds. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** The wait before retry number `attempt` (0-based): between half and all of min(max, base·2^attempt). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Milliseconds a Retry-After header asks for (seconds, or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
