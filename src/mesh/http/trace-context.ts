/** W3C Trace Context: reading the caller's `traceparent` and writing the proxy's own. */
import { randomBytes } from 'node:crypto';

/** The trace a request belongs to and the span it came from. Ids are lower-case hex. */
export interface TraceContext {
  traceId: string;
  /** The caller's span (parent of the proxy's spans); empty when the request started a trace here. */
  parentSpanId: string;
  /** Two hex digits; `01` when sampled. */
  flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// Ids come from a pool of random hex refilled 4 KiB at a time: one randomBytes call per request costs
// more than the rest of the tracing. The pool is kept as hex text, so an id is a slice of it (V8
// shares the pool's characters) rather than a conversion per id.
let pool = '';
let poolAt = 0;
function randomHex(bytes: number): string {
  const length = bytes * 2;
  if (poolAt + length > pool.length) {
    pool = randomBytes(4096).toString('hex');
    poolAt = 0;
  }
  const hex = pool.slice(poolAt, poolAt + length);
  poolAt += length;
  return hex;
}

/** A new span id (8 random bytes, hex). */
export function newSpanId(): string {
  return randomHex(8);
}

/** A new trace id (16 random bytes, hex). */
export function newTraceId(): string {
  return randomHex(16);
}

/** Fixed for the process's life; reading it through its getter each time cost more than the arithmetic. */
const TIME_ORIGIN = performance.timeOrigin;

/**
 * Wall-clock now in Unix nanoseconds (ms precision plus the monotonic clock's fraction), for span
 * times; or the wall-clock time of `at`, a `performance.now()` reading taken earlier.
 */
export function wallClockNs(at = performance.now()): bigint {
  return BigInt(Math.round((TIME_ORIGIN + at) * 1e6));
}

/** The caller's trace context, or a new trace when the header is absent or invalid (as the spec says: restart the trace). */
export function readTraceparent(header: string | string[] | undefined): TraceContext {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (match) {
    const [, version, traceId, parentSpanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
    // Version ff is forbidden; version 00 has nothing after the flags.
    if (version !== 'ff' && !(version === '00' && rest) && traceId !== ZERO_TRACE && parentSpanId !== ZERO_SPAN) {
      return { traceId, parentSpanId, flags };
    }
  }
  return { traceId: newTraceId(), parentSpanId: '', flags: '01' };
}

/** The `traceparent` naming `spanId` as the parent of what the upstream does. */
export function formatTraceparent(context: TraceContext, spanId: string): string {
  return `00-${context.traceId}-${spanId}-${context.flags}`;
}
