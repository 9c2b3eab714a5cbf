/**
 * Which requests the mesh traces. A proxy cannot store two spans for every request at tens of
 * thousands of requests a second, so, as proxies in real meshes do, it samples traces and keeps
 * exact metrics. A request that came with a traceparent follows its caller's sampled flag
 * (OpenTelemetry's ParentBased sampler), so a trace is kept or left whole; a trace that starts at
 * the proxy is sampled by a token bucket of `tracesPerSecond` (Jaeger's rate-limiting sampler,
 * X-Ray's reservoir): every trace at low traffic, a bounded number at high traffic.
 */
import { performance } from 'node:perf_hooks';
import { UsageError } from '../../../core/errors.js';
import type { TraceContext } from '../trace-context.js';

/** Traces started at a proxy that are sampled per second when nothing else is said. */
export const DEFAULT_TRACES_PER_SECOND = 100;

/** How a sampler is made; `nowMs` (a monotonic clock in milliseconds) is there for tests. */
export interface TraceSamplerOptions {
  /** Traces started here sampled per second, at most; 0 samples none of them. */
  tracesPerSecond: number;
  nowMs?: () => number;
}

/** Whether the caller's trace flags have the sampled bit (0x01) set. */
export function sampledFlag(flags: string): boolean {
  return (Number.parseInt(flags, 16) & 1) === 1;
}

/** Parent-based sampling, with a rate limit on the traces that start here. */
export class TraceSampler {
  /**
   * The bucket holds time, not tokens: a trace costs 1000 / rate ms of it, and elapsed time is added
   * as it is, so no rate is multiplied into a running sum (0.1 added ten times is less than 1).
   */
  private readonly costMs: number;
  /** One second's worth, and at least one trace: a burst after a quiet second is kept. */
  private readonly capacityMs: number;
  private creditMs: number;
  private last: number;
  private readonly nowMs: () => number;

  constructor(options: TraceSamplerOptions) {
    const rate = options.tracesPerSecond;
    if (!Number.isFinite(rate) || rate < 0) throw new UsageError(`the mesh's traces per second must be a number ≥ 0, not ${String(rate)}`);
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.costMs = rate === 0 ? Infinity : 1000 / rate;
    this.capacityMs = rate === 0 ? 0 : Math.max(1000, this.costMs);
    this.creditMs = this.capacityMs;
    this.last = this.nowMs();
  }

  /** Whether the spans of the request with this trace context are to be kept; called once per request. */
  sample(trace: TraceContext): boolean {
    if (trace.parentSpanId !== '') return sampledFlag(trace.flags);
    if (this.capacityMs === 0) return false;
    const now = this.nowMs();
    // A clock that went back (it should not: monotonic) adds nothing.
    if (now > this.last) {
      this.creditMs = Math.min(this.capacityMs, this.creditMs + (now - this.last));
      this.last = now;
    }
    if (this.creditMs < this.costMs) return false;
    this.creditMs -= this.costMs;
    return true;
  }
}
