/**
 * Times as the agent keeps them: Unix nanoseconds as bigint, exact (a JS number holds only
 * microseconds at today's epoch). The Engine stamps lines in RFC 3339 with nanoseconds and
 * takes `since` as `seconds.nanoseconds`.
 */

const NS_PER_SECOND = 1_000_000_000n;
const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** Unix nanoseconds of an RFC 3339 time (`2026-11-26T10:00:00.123456789Z`); undefined when it is not one. */
export function nsFromRfc3339(text: string): bigint | undefined {
  const match = RFC3339.exec(text.trim());
  if (!match?.[1] || !match[3]) return undefined;
  const ms = Date.parse(`${match[1]}${match[3].toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** The Engine's `since` for a time in nanoseconds: `1700000000.123456789`. */
export function sinceText(ns: bigint): string {
  return `${ns / NS_PER_SECOND}.${(ns % NS_PER_SECOND).toString().padStart(9, '0')}`;
}

/** Now, in Unix nanoseconds (millisecond precision). */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Unix nanoseconds of a numeric log time. The unit is read from the magnitude, as log libraries
 * differ: seconds (Python, some Go), milliseconds (pino, Date.now), micro- or nanoseconds.
 */
export function nsFromEpochNumber(value: number): bigint | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  if (value < 1e11) return BigInt(Math.round(value * 1e6)) * 1000n;
  if (value < 1e14) return BigInt(Math.round(value * 1e3)) * 1000n;
  if (value < 1e17) return BigInt(Math.round(value)) * 1000n;
  return BigInt(Math.round(value));
}
