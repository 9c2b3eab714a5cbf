/** Message-level faults on the HTTP proxy: abort, drop, duplicate, delay; toxicity and matches; changes under load. */
import { afterEach, describe, expect, test } from 'vitest';
import { startHttpProxy, type HttpProxy } from '../../../src/mesh/index.js';
import { closeHttp, keepAliveAgent, request, startOkUpstream, startUpstream, type TestUpstream } from './http-helpers.js';
import { closeAll, connect, delay, eventually, outcome, staysSilent } from './net-helpers.js';

let proxy: HttpProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await closeHttp();
  await closeAll();
});

async function setup(random?: () => number): Promise<{ proxy: HttpProxy; upstream: TestUpstream }> {
  const upstream = await startOkUpstream();
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address, ...(random ? { random } : {}) });
  return { proxy, upstream };
}

describe('http_abort', () => {
  test('upstream: answers the status without calling the upstream', async () => {
    const { proxy, upstream } = await setup();
    proxy.toxics.add({ type: 'http_abort', stream: 'upstream', attributes: { status: 503 } });
    const reply = await request(proxy.listen);
    expect(reply.status).toBe(503);
    expect(upstream.seen).toHaveLength(0);
  });

  test('downstream: the upstream is called, the caller gets the status instead of its answer', async () => {
    const { proxy, upstream } = await setup();
    proxy.toxics.add({ type: 'http_abort', stream: 'downstream', attributes: { status: 500 } });
    const reply = await request(proxy.listen);
    expect(reply.status).toBe(500);
    expect(upstream.seen).toHaveLength(1);
  });

  test('toxicity 0 never applies, toxicity 1 always does, in between it is rolled per request', async () => {
    let roll = 0;
    const rolls = [0.1, 0.9, 0.1, 0.9];
    const { proxy } = await setup(() => rolls[roll++ % rolls.length] ?? 0);
    const agent = keepAliveAgent(1);
    const abort = proxy.toxics.add({ name: 'a', type: 'http_abort', stream: 'upstream', toxicity: 0 });
    for (let i = 0; i < 5; i++) expect((await request(proxy.listen, { agent })).status).toBe(200);
    proxy.toxics.update(abort.name, { toxicity: 1 });
    for (let i = 0; i < 5; i++) expect((await request(proxy.listen, { agent })).status).toBe(503);
    proxy.toxics.update(abort.name, { toxicity: 0.5 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(proxy.listen, { agent })).status);
    expect(statuses).toEqual([503, 200, 503, 200]);
  });

  test('method, path and header matches select only matching requests', async () => {
    const { proxy } = await setup();
    proxy.toxics.add({ name: 'm', type: 'http_abort', stream: 'upstream', attributes: { status: 501, method: 'post' } });
    proxy.toxics.add({ name: 'p', type: 'http_abort', stream: 'upstream', attributes: { status: 502, path: '/orders' } });
    proxy.toxics.add({ name: 'h', type: 'http_abort', stream: 'upstream', attributes: { status: 504, header: 'X-Tenant: blue' } });
    expect((await request(proxy.listen, { method: 'POST', path: '/x' })).status).toBe(501);
    expect((await request(proxy.listen, { path: '/orders/42?full=1' })).status).toBe(502);
    expect((await request(proxy.listen, { path: '/x', headers: { 'x-tenant': 'blue' } })).status).toBe(504);
    expect((await request(proxy.listen, { path: '/x', headers: { 'x-tenant': 'green' } })).status).toBe(200);
    expect((await request(proxy.listen, { path: '/order' })).status).toBe(200);
    expect((await request(proxy.listen, { method: 'PUT', path: '/x' })).status).toBe(200);
  });

  test('bad attributes are refused', async () => {
    const { proxy } = await setup();
    expect(() => proxy.toxics.add({ type: 'http_abort', attributes: { status: 700 } })).toThrow(/status/);
    expect(() => proxy.toxics.add({ type: 'http_abort', attributes: { path: 'orders' } })).toThrow(/path/);
    expect(() => proxy.toxics.add({ type: 'http_abort', attributes: { header: 'no colon' } })).toThrow(/header/);
    expect(() => proxy.toxics.add({ type: 'http_drop', attributes: { mode: 'vanish' } })).toThrow(/mode/);
  });
});

describe('http_drop', () => {
  test('reset: the caller sees its connection reset, and the upstream is not called', async () => {
    const { proxy, upstream } = await setup();
    proxy.toxics.add({ type: 'http_drop', stream: 'upstream', attributes: { mode: 'reset' } });
    await expect(request(proxy.listen)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(upstream.seen).toHaveLength(0);
  });

  test('hang: never answers, until max_hang_ms resets it', async () => {
    const { proxy } = await setup();
    proxy.toxics.add({ type: 'http_drop', stream: 'downstream', attributes: { mode: 'hang', max_hang_ms: 400 } });
    const socket = await connect(proxy.listen);
    socket.write('GET / HTTP/1.1\r\nHost: svc\r\n\r\n');
    expect(await staysSilent(socket, 250)).toBe(true);
    // Without max_hang_ms the request would hang for good: the 10 s deadline only tells a reset from a hang.
    const result = await outcome(socket, 10_000);
    expect(result.data.length).toBe(0);
    expect(result.error?.code).toBe('ECONNRESET');
  }, 20_000);

  test('hang: removing the toxic releases the request, which then goes through', async () => {
    const { proxy } = await setup();
    proxy.toxics.add({ name: 'hang', type: 'http_drop', stream: 'upstream', attributes: { mode: 'hang' } });
    const pending = request(proxy.listen, { path: '/held', timeoutMs: 15_000 });
    // Held: the proxy has it, and (hanging for good) it could only come back by the removal.
    await eventually(() => proxy.stats().active === 1, 15_000);
    proxy.toxics.remove('hang');
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('ok GET /held');
  });

  test('hang: a caller that gives up ends the request', async () => {
    const { proxy } = await setup();
    proxy.toxics.add({ type: 'http_drop', stream: 'upstream', attributes: { mode: 'hang' } });
    const socket = await connect(proxy.listen);
    socket.write('GET / HTTP/1.1\r\nHost: svc\r\n\r\n');
    // The request is held (it hangs for good), then the caller gives up on it.
    await eventually(() => proxy.stats().active === 1, 15_000);
    socket.destroy();
    await eventually(() => proxy.stats().active === 0, 15_000);
  }, 40_000);
});

describe('http_duplicate', () => {
  test('delivers the request twice upstream, body included; the caller gets one answer', async () => {
    let n = 0;
    const upstream = await startUpstream((_request, response) => {
      n++;
      response.end(`answer ${n}`);
    });
    proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
    proxy.toxics.add({ type: 'http_duplicate', stream: 'upstream' });
    const agent = keepAliveAgent(1);
    const reply = await request(proxy.listen, { method: 'POST', path: '/orders', body: '{"sku":"a1","qty":2}', headers: { 'content-type': 'application/json' }, agent });
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toMatch(/^answer [12]$/);
    // The copy whose answer is dropped may reach the upstream after the caller has its answer.
    await eventually(() => upstream.seen.length >= 2, 15_000);
    await delay(50);
    expect(upstream.seen).toHaveLength(2);
    expect(upstream.seen.map((seen) => seen.body.toString())).toEqual(['{"sku":"a1","qty":2}', '{"sku":"a1","qty":2}']);
    expect(upstream.seen.map((seen) => seen.method)).toEqual(['POST', 'POST']);
    // The caller's connection stays usable: exactly one answer was written to it.
    const next = await request(proxy.listen, { path: '/next', agent });
    expect(next.status).toBe(200);
    expect(next.reusedSocket).toBe(true);
  });
});

describe('http_delay', () => {
  test('upstream delay holds the request, downstream delay holds the answer', async () => {
    let arrived = 0;
    let reached: (() => void) | undefined;
    const upstream = await startUpstream((_request, response) => {
      arrived = performance.now();
      reached?.();
      response.end('ok');
    });
    proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
    // Upstream: the request reaches the upstream no sooner than the delay.
    proxy.toxics.add({ name: 'up', type: 'http_delay', stream: 'upstream', attributes: { delay_ms: 150 } });
    const started = performance.now();
    await request(proxy.listen);
    expect(arrived - started).toBeGreaterThanOrEqual(140);
    proxy.toxics.remove('up');
    // Downstream: the answer leaves no sooner than the delay after the upstream gave it.
    proxy.toxics.add({ name: 'down', type: 'http_delay', stream: 'downstream', attributes: { delay_ms: 150, jitter_ms: 20 } });
    await request(proxy.listen);
    expect(performance.now() - arrived).toBeGreaterThanOrEqual(125);
    // ...and the request itself is not held: with a downstream delay no test waits out (10 min), the request
    // still reaches the upstream (held, it would hang until the test times out) while the answer is held,
    // until removing the toxic lets it go.
    proxy.toxics.update('down', { attributes: { delay_ms: 600_000 } });
    const upstreamReached = new Promise<void>((resolve) => (reached = resolve));
    let answered = false;
    const pending = request(proxy.listen, { timeoutMs: 15_000 }).finally(() => (answered = true));
    // A request held on the way up would end only by the caller's deadline, failing this race.
    await Promise.race([upstreamReached, pending]);
    await delay(100);
    expect(answered).toBe(false);
    proxy.toxics.remove('down');
    expect((await pending).status).toBe(200);
  }, 30_000);
});

test('adding and removing faults under concurrent load loses no request on the pass-through path', async () => {
  const upstream = await startUpstream((req, response, body) => {
    response.end(`${req.url ?? ''}:${body.length}`);
  });
  proxy = await startHttpProxy({ name: 'svc', listen: '127.0.0.1:0', upstream: upstream.address });
  const target = proxy;
  let stop = false;
  // Faults that never select the load's requests (they match another path), churned as fast as the loop turns.
  const churn = (async () => {
    for (let i = 0; i < 2_000 && !stop; i++) {
      target.toxics.add({ name: `abort${i}`, type: 'http_abort', stream: 'upstream', attributes: { path: '/never' } });
      target.toxics.add({ name: `delay${i}`, type: 'http_delay', stream: 'downstream', toxicity: 0.5, attributes: { delay_ms: 1, path: '/never' } });
      await delay(1);
      target.toxics.remove(`abort${i}`);
      target.toxics.remove(`delay${i}`);
    }
  })();
  const clients = Array.from({ length: 8 }, async (_, c) => {
    const agent = keepAliveAgent(1);
    const results: boolean[] = [];
    for (let i = 0; i < 40; i++) {
      const body = Buffer.alloc(1_000 + i * 37, c);
      const reply = await request(target.listen, { method: 'POST', path: `/load/${c}/${i}`, body, agent });
      results.push(reply.status === 200 && reply.body.toString() === `/load/${c}/${i}:${body.length}`);
    }
    return results;
  });
  const results = (await Promise.all(clients)).flat();
  stop = true;
  await churn;
  expect(results).toHaveLength(320);
  expect(results.every(Boolean)).toBe(true);
  expect(upstream.seen).toHaveLength(320);
});
