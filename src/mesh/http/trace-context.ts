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

// Ids come from a pool refilled 4 KiB at a time: one randomBytes call per request costs more than the rest of the tracing.
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
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

/** Wall-clock now in Unix nanoseconds (ms precision plus the monotonic clock's fraction), for span times. */
export function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
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
