/** Resilience on the HTTP proxy: retries (status, errors, idempotency), the retry budget, timeouts, outlier ejection. */
import { afterEach, expect, test, vi } from 'vitest';
import { resilienceSchema, startHttpProxy, type HttpProxy, type ResilienceInput } from '../../../src/mesh/index.js';
import { resolveResilience, RetryBudget } from '../../../src/mesh/http/resilience.js';
import { closeHttp, keepAliveAgent, request, startOkUpstream, startUpstream } from './http-helpers.js';
import { closeAll, delay } from './net-helpers.js';

let proxy: HttpProxy | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  await proxy?.close();
  proxy = undefined;
  await closeHttp();
  await closeAll();
});

function settings(input: ResilienceInput): ReturnType<typeof resolveResilience> {
  return resolveResilience(resilienceSchema.parse(input));
}

/** An upstream that answers 503 to its first `failures` requests, then 200. */
async function flaky(failures: number) {
  let count = 0;
  return startUpstream((_request, response) => {
    count++;
    response.writeHead(count <= failures ? 503 : 200);
    response.end(`try ${count}`);
  });
}

test('retries a 503 up to the attempts, for an idempotent method', async () => {
  const upstream = await flaky(2);
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, resilience: settings({ retries: { attempts: 3, backoff_ms: 1 } }) });
  const reply = await request(proxy.listen, { method: 'PUT', path: '/stock/1', body: 'qty=3' });
  expect(reply.status).toBe(200);
  expect(reply.body.toString()).toBe('try 3');
  expect(upstream.seen.map((seen) => seen.body.toString())).toEqual(['qty=3', 'qty=3', 'qty=3']);
  expect(proxy.stats().retries).toBe(2);
});

test('gives up after the attempts and passes the last answer on', async () => {
  const upstream = await flaky(100);
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, resilience: settings({ retries: { attempts: 2, backoff_ms: 0 } }) });
  const reply = await request(proxy.listen);
  expect(reply.status).toBe(503);
  expect(upstream.seen).toHaveLength(2);
});

test('does not retry a POST, unless it carries an Idempotency-Key', async () => {
  const upstream = await flaky(1);
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, resilience: settings({ retries: { attempts: 3, backoff_ms: 0 } }) });
  expect((await request(proxy.listen, { method: 'POST', body: 'x' })).status).toBe(503);
  expect(upstream.seen).toHaveLength(1);
  const upstream2 = await flaky(1);
  await proxy.update({ upstream: upstream2.address });
  const reply = await request(proxy.listen, { method: 'POST', body: 'order', headers: { 'idempotency-key': 'k-1' } });
  expect(reply.status).toBe(200);
  expect(upstream2.seen.map((seen) => seen.body.toString())).toEqual(['order', 'order']);
});

test('retries on connection errors, to another replica', async () => {
  const dead = await startOkUpstream();
  const deadAddress = dead.address;
  dead.server.close();
  await delay(10);
  const alive = await startOkUpstream();
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: `${deadAddress},${alive.address}`,
    resilience: settings({ retries: { attempts: 2, backoff_ms: 0 }, budget: { min_retries: 10 }, ejection: { consecutive_failures: 0 } }),
  });
  for (let i = 0; i < 6; i++) expect((await request(proxy.listen)).status).toBe(200);
  expect(alive.seen).toHaveLength(6);
});

test('the budget caps retries against an always-failing upstream', async () => {
  const upstream = await flaky(Number.MAX_SAFE_INTEGER);
  const ratio = 0.2;
  const minRetries = 3;
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address,
    resilience: settings({ retries: { attempts: 3, backoff_ms: 0 }, budget: { ratio, window_ms: 60_000, min_retries: minRetries }, ejection: { consecutive_failures: 0 } }),
  });
  const agent = keepAliveAgent(4);
  const target = proxy.listen;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 25; i++) expect((await request(target, { agent })).status).toBe(503);
    }),
  );
  const retries = upstream.seen.length - 100;
  expect(proxy.stats().retries).toBe(retries);
  expect(retries).toBeGreaterThan(0);
  expect(retries).toBeLessThanOrEqual(ratio * 100 + minRetries);
  expect(proxy.stats().budgetRefused).toBeGreaterThan(0);
});

test('the budget window slides: old requests stop counting', () => {
  let now = 0;
  const budget = new RetryBudget({ ratio: 0.5, windowMs: 1_000, minRetries: 0 }, () => now);
  for (let i = 0; i < 4; i++) budget.recordRequest();
  expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
  now = 1_500;
  budget.recordRequest();
  expect(budget.tryRetry()).toBe(false);
  budget.recordRequest();
  expect(budget.tryRetry()).toBe(true);
});

test('a per-attempt timeout answers 504 and is retried', async () => {
  // The first attempt never gets an answer: 'fast' (or the 504) can only come from the attempt timeout cutting it
  // off. No clock: a proxy without the timeout would hang until the caller's generous deadline.
  let count = 0;
  const upstream = await startUpstream((_request, response) => {
    count++;
    if (count > 1) response.end('fast');
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, resilience: settings({ attempt_timeout_ms: 100, retries: { attempts: 2, backoff_ms: 0 } }) });
  const reply = await request(proxy.listen, { timeoutMs: 15_000 });
  expect(reply.body.toString()).toBe('fast');
  expect(upstream.seen).toHaveLength(2);
  expect(proxy.stats().retries).toBe(1);
  await proxy.update({ resilience: { attempt_timeout_ms: 100 } });
  count = 0;
  expect((await request(proxy.listen, { timeoutMs: 15_000 })).status).toBe(504);
}, 40_000);

test('ejects a failing replica, then brings it back after the cool-off', async () => {
  // The cool-off is measured on performance.now(), which this test moves forward by hand: no request here can
  // outlast the (long) cool-off by slowness, and it passes only when the test says so.
  const realNow = performance.now.bind(performance);
  let skew = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => realNow() + skew);
  const coolOffMs = 600_000;
  let healthy = false;
  const sick = await startUpstream((_request, response) => {
    response.writeHead(healthy ? 200 : 503);
    response.end('sick');
  });
  const good = await startOkUpstream();
  proxy = await startHttpProxy({
    name: 'svc', listen: '127.0.0.1:0', upstream: `${sick.address},${good.address}`,
    resilience: settings({ ejection: { consecutive_failures: 2, cool_off_ms: coolOffMs } }),
  });
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await request(proxy.listen)).status);
  // sick, good, sick (second failure: ejected), good
  expect(statuses).toEqual([503, 200, 503, 200]);
  expect(proxy.stats().replicas[0]).toMatchObject({ ejected: true, ejections: 1 });
  for (let i = 0; i < 6; i++) expect((await request(proxy.listen)).status).toBe(200);
  expect(sick.seen).toHaveLength(2);
  expect(proxy.stats().replicas[0]?.ejected).toBe(true);
  healthy = true;
  skew += coolOffMs;
  expect(proxy.stats().replicas[0]?.ejected).toBe(false);
  for (let i = 0; i < 4; i++) expect((await request(proxy.listen)).status).toBe(200);
  expect(sick.seen.length).toBeGreaterThanOrEqual(4);
});
