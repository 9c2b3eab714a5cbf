/** The load is bounded in count, in concurrency and in time, whatever the service does. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendHttp, systemClock } from '../../../src/chaos/index.js';
import { plannedRequests, startLoad, summarizeLoad } from '../../../src/chaos/load.js';
import type { LoadSpec } from '../../../src/spec/types.js';
import { startService, type FakeService } from './fakes.js';

let api: FakeService;
beforeEach(async () => {
  api = await startService();
});
afterEach(async () => {
  await api.close();
});

function load(fields: Partial<LoadSpec> & { timeout?: string }): LoadSpec {
  const { timeout = '5s', ...rest } = fields;
  return { request: { url: `${api.url}/`, method: 'GET', headers: {}, timeout }, rate: 100, duration: '200ms', concurrency: 8, ...rest };
}

describe('a load', () => {
  // Counts, never wall-clock times: the machine running the tests may be slow or busy.
  it('sends at most rate × duration requests, each one accounted for', async () => {
    const stats = await startLoad(load({ rate: 200, duration: '250ms' }), { clock: systemClock, send: sendHttp }).done;
    expect(stats.planned).toBe(50);
    expect(stats.sent).toBeLessThanOrEqual(50);
    expect(stats.sent).toBeGreaterThan(0);
    expect(api.requests).toBe(stats.sent);
    expect(stats.statuses).toEqual({ '200': stats.sent });
  });

  it('never has more requests in flight than its concurrency', async () => {
    api.delayMs = 60;
    const stats = await startLoad(load({ rate: 200, duration: '300ms', concurrency: 3 }), { clock: systemClock, send: sendHttp }).done;
    expect(api.peakInFlight).toBeLessThanOrEqual(3);
    expect(api.peakInFlight).toBeGreaterThan(0);
    // 3 at a time for 60 ms each: about 15 in 300 ms, far fewer than the 60 planned.
    expect(stats.sent).toBeLessThan(25);
    expect(stats.p50Ms).toBeGreaterThanOrEqual(55);
  });

  it('ends within its duration plus one request timeout when the service never answers', async () => {
    api.delayMs = 10_000;
    // It ends (else this test times out) although no request is ever answered.
    const stats = await startLoad(load({ rate: 50, duration: '200ms', concurrency: 100, timeout: '150ms' }), { clock: systemClock, send: sendHttp }).done;
    expect(stats.errors).toBe(stats.sent);
    expect(Object.keys(stats.statuses)).toEqual(['timeout']);
  });

  it('stops at once when asked, and tells a waiting step the count was not reached', async () => {
    const running = startLoad(load({ rate: 20, duration: '10s' }), { clock: systemClock, send: sendHttp });
    const reached = running.reached(1000);
    // Stopped once the first request arrived, far from the 200 planned.
    while (api.requests === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    running.stop();
    const stats = await running.done;
    expect(await reached).toBe(false);
    expect(stats.sent).toBeLessThan(stats.planned);
  });

  it('summarizes statuses and nearest-rank percentiles', () => {
    const samples = [...Array.from({ length: 98 }, (_, i) => ({ outcome: '200', ms: i + 1, answered: true })), { outcome: '503', ms: 500, answered: true }, { outcome: 'refused', ms: 1, answered: false }];
    expect(summarizeLoad(samples, { planned: 100, sent: 100, durationMs: 1000.4 })).toEqual({
      planned: 100, sent: 100, completed: 100, errors: 1, statuses: { '200': 98, '503': 1, refused: 1 }, p50Ms: 49, p99Ms: 98, maxMs: 500, durationMs: 1000,
    });
    expect(plannedRequests({ rate: 3, duration: '1500ms' })).toBe(5);
  });
});
