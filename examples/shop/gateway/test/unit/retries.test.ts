/**
 * `POST /orders` through the gateway, made safe to repeat and repeated: an Idempotency-Key made
 * up when the client sent none, sent back to the client, and the same key on every retry while
 * orders' answer is lost or says it could not do the work — and none of that with
 * SHOP_IDEMPOTENCY=off. Against a fake orders service that answers as each test says.
 */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createHttpServer } from '../../../shared/http.js';
import { backoffDelay } from '../../../shared/retry.js';
import { call, close, fakeService, listen, postJson, sendJson, type FakeService, type Received } from '../../../shared/testing.js';
import { gatewayRoutes, ORDER_RETRY, type GatewayConfig } from '../../src/routes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ORDER = { sku: 'widget', quantity: 1 };

/** How the fake orders service answers one request. */
type Answer = (req: Received, res: ServerResponse) => void;
const created: Answer = (_req, res) => sendJson(res, 201, { id: 'o-1', ...ORDER });
const status = (code: number, body: unknown = { error: 'x' }): Answer => (_req, res) => sendJson(res, code, body);
const reset: Answer = (_req, res) => res.socket?.destroy();
const plainText = (code: number): Answer => (_req, res) => res.writeHead(code, { 'content-type': 'text/plain' }).end('mesh: dropped');

async function startGateway(config: GatewayConfig): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = createHttpServer({ name: 'gateway', routes: gatewayRoutes(config), log: () => undefined });
  const url = await listen(server);
  return { url, stop: () => close(server) };
}

describe('POST /orders through the gateway', () => {
  /** Answers of the fake orders service, one per request; `created` once the list is used up. */
  let answers: Answer[];
  let orders: FakeService;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  const fast = { attempts: 3, backoffMs: 1, totalMs: 5_000 };
  const keysSent = (): unknown[] => orders.received.map((r) => r.headers['idempotency-key']);

  before(async () => {
    orders = await fakeService((req, res) => (answers.shift() ?? created)(req, res));
    gateway = await startGateway({ ordersUrl: orders.url, inventoryUrl: orders.url, orderRetry: fast, timeoutMs: 1_000 });
  });
  after(async () => {
    await gateway.stop();
    await orders.close();
  });
  beforeEach(() => {
    answers = [];
    orders.received.length = 0;
  });

  it('makes up an Idempotency-Key (a UUID) when the client sent none, sends it on and back', async () => {
    const answer = await postJson(`${gateway.url}/orders`, ORDER);
    assert.equal(answer.status, 201);
    const key = answer.headers.get('idempotency-key') ?? '';
    assert.match(key, UUID);
    assert.deepEqual(keysSent(), [key]);
    const again = await postJson(`${gateway.url}/orders`, ORDER);
    assert.notEqual(again.headers.get('idempotency-key'), key, 'a new key for each new order');
  });

  it("keeps the client's key, and sends it back", async () => {
    const answer = await postJson(`${gateway.url}/orders`, ORDER, { 'idempotency-key': 'cart-42' });
    assert.equal(answer.headers.get('idempotency-key'), 'cart-42');
    assert.deepEqual(keysSent(), ['cart-42']);
  });

  const retried: [string, Answer][] = [
    ['a 502', status(502)],
    ['a 503', status(503)],
    ['a 504', status(504)],
    ['a proxy’s plain-text 502', plainText(502)],
    ['a reset connection', reset],
  ];
  for (const [what, answer] of retried) {
    it(`retries ${what} with the same key, body and request id`, async () => {
      answers = [answer, answer];
      const reply = await postJson(`${gateway.url}/orders`, ORDER, { 'x-request-id': 'req-7' });
      assert.equal(reply.status, 201);
      assert.deepEqual(reply.body, { id: 'o-1', ...ORDER });
      const key = reply.headers.get('idempotency-key');
      assert.deepEqual(keysSent(), [key, key, key]);
      assert.deepEqual(orders.received.map((r) => JSON.parse(r.body) as unknown), [ORDER, ORDER, ORDER]);
      assert.deepEqual(orders.received.map((r) => r.headers['x-request-id']), ['req-7', 'req-7', 'req-7']);
    });
  }

  it('retries an attempt that timed out with the same key', async () => {
    const slow = await startGateway({ ordersUrl: orders.url, inventoryUrl: orders.url, orderRetry: fast, timeoutMs: 100 });
    try {
      answers = [() => undefined];
      const reply = await postJson(`${slow.url}/orders`, ORDER, { 'idempotency-key': 'k-slow' });
      assert.equal(reply.status, 201);
      assert.deepEqual(keysSent(), ['k-slow', 'k-slow']);
    } finally {
      await slow.stop();
    }
  });

  it('gives up after 3 attempts, answering the last failure, with the key to retry with', async () => {
    answers = [status(503), reset, status(502, { error: 'inventory_unreachable', message: 'the inventory is unreachable' })];
    const reply = await postJson(`${gateway.url}/orders`, ORDER);
    assert.equal(reply.status, 502);
    assert.deepEqual(reply.body, { error: 'inventory_unreachable', message: 'the inventory is unreachable' });
    assert.match(reply.headers.get('idempotency-key') ?? '', UUID);
    assert.equal(orders.received.length, 3);
    answers = [reset, reset, reset];
    const lost = await postJson(`${gateway.url}/orders`, ORDER, { 'idempotency-key': 'k-lost' });
    assert.equal(lost.status, 502);
    assert.equal((lost.body as { error?: unknown }).error, 'upstream_unreachable');
    assert.equal(lost.headers.get('idempotency-key'), 'k-lost');
    assert.equal(orders.received.length, 6);
  });

  for (const code of [400, 409, 422, 500]) {
    it(`does not retry a ${code}: orders answered, and would answer the same`, async () => {
      answers = [status(code)];
      const reply = await postJson(`${gateway.url}/orders`, ORDER);
      assert.equal(reply.status, code);
      assert.equal(orders.received.length, 1);
    });
  }

  it('stops retrying when the next pause would pass the deadline', async () => {
    const hurried = await startGateway({ ordersUrl: orders.url, inventoryUrl: orders.url, orderRetry: { attempts: 3, backoffMs: 1_000, totalMs: 300 } });
    try {
      answers = [status(503), status(503)];
      const started = Date.now();
      const reply = await postJson(`${hurried.url}/orders`, ORDER);
      assert.equal(reply.status, 503);
      assert.equal(orders.received.length, 1);
      assert.ok(Date.now() - started < 1_000);
    } finally {
      await hurried.stop();
    }
  });

  it('does not retry other routes', async () => {
    answers = [status(502)];
    assert.equal((await call(`${gateway.url}/orders/o-1`)).status, 502);
    assert.equal(orders.received.length, 1);
  });

  it('with SHOP_IDEMPOTENCY=off, neither makes up a key nor retries', async () => {
    const off = await startGateway({ ordersUrl: orders.url, inventoryUrl: orders.url, orderRetry: fast, idempotency: false });
    try {
      answers = [status(502)];
      const reply = await postJson(`${off.url}/orders`, ORDER);
      assert.equal(reply.status, 502);
      assert.equal(reply.headers.get('idempotency-key'), null);
      assert.deepEqual(keysSent(), [undefined]);
      await postJson(`${off.url}/orders`, ORDER, { 'idempotency-key': 'cart-1' });
      assert.equal(orders.received[1]?.headers['idempotency-key'], 'cart-1', "a client's key still passes");
    } finally {
      await off.stop();
    }
  });
});

describe('the retry policy', () => {
  it('is 3 attempts with a small backoff with jitter, bounded in all', () => {
    assert.equal(ORDER_RETRY.attempts, 3);
    assert.equal(backoffDelay(100, 1, 0), 50);
    assert.equal(backoffDelay(100, 1, 0.999_999), 99.999_95);
    assert.equal(backoffDelay(100, 2, 0), 100);
    assert.ok(ORDER_RETRY.totalMs <= 15_000);
  });
});
