/** The mesh's trace sampler: parent-based when the caller sent a traceparent, rate-limited for traces that start at the proxy. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { TraceSampler } from '../../../src/mesh/http/telemetry/sampler.js';
import type { TraceContext } from '../../../src/mesh/http/trace-context.js';

const root: TraceContext = { traceId: 'a'.repeat(32), parentSpanId: '', flags: '01' };
const child = (flags: string): TraceContext => ({ traceId: 'a'.repeat(32), parentSpanId: 'b'.repeat(16), flags });

/** A sampler on a clock the test moves. */
function sampler(tracesPerSecond: number): { sampler: TraceSampler; advance: (ms: number) => void } {
  let now = 5_000;
  return { sampler: new TraceSampler({ tracesPerSecond, nowMs: () => now }), advance: (ms) => (now += ms) };
}

/** How many of `n` new traces, asked back to back, are sampled. */
const sampledOf = (s: TraceSampler, n: number): number => Array.from({ length: n }, () => s.sample(root)).filter(Boolean).length;

describe('TraceSampler', () => {
  it('follows the caller\'s sampled flag (bit 0x01), whatever the rate limit says', () => {
    for (const rate of [0, 100]) {
      const { sampler: s } = sampler(rate);
      sampledOf(s, 200); // the bucket is empty now
      expect([child('01'), child('00'), child('03'), child('02'), child('ff'), child('fe')].map((trace) => s.sample(trace))).toEqual([true, false, true, false, true, false]);
    }
  });

  it('samples at most `tracesPerSecond` new traces a second, with a burst of one second\'s worth', () => {
    const { sampler: s, advance } = sampler(10);
    expect(sampledOf(s, 15)).toBe(10);
    advance(100);
    expect(sampledOf(s, 5)).toBe(1);
    advance(50);
    expect(sampledOf(s, 5)).toBe(0);
    advance(50);
    expect(sampledOf(s, 5)).toBe(1);
    // A quiet minute refills the bucket, no more than full.
    advance(60_000);
    expect(sampledOf(s, 100)).toBe(10);
    // Steady traffic over 10 s: 10 a second.
    let sampled = 0;
    for (let ms = 0; ms < 10_000; ms += 10) {
      advance(10);
      sampled += sampledOf(s, 5);
    }
    expect(sampled).toBe(100);
  });

  it('keeps a rate below one a second', () => {
    const { sampler: s, advance } = sampler(0.5);
    expect(sampledOf(s, 3)).toBe(1);
    advance(1_000);
    expect(sampledOf(s, 3)).toBe(0);
    advance(1_000);
    expect(sampledOf(s, 3)).toBe(1);
  });

  it('samples no new trace at rate 0', () => {
    const { sampler: s, advance } = sampler(0);
    expect(sampledOf(s, 10)).toBe(0);
    advance(60_000);
    expect(sampledOf(s, 10)).toBe(0);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a rate of %s', (rate) => {
    expect(() => new TraceSampler({ tracesPerSecond: rate })).toThrow(UsageError);
  });
});
