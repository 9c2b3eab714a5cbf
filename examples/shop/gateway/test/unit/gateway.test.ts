/**
 * The gateway over HTTP, against fake orders and inventory services: what it routes where,
 * which headers pass, what it refuses before asking anyone, and how a failing service behind
 * it is reported.
 */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createHttpServer } from '../../../shared/http.js';
import { call, close, fakeService, listen, postJson, sendJson, unusedUrl, type FakeService, type Received } from '../../../shared/testing.js';
import { gatewayRoutes, type GatewayConfig } from '../../src/routes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Starts a gateway in front of `config`; resolves to its base URL and what it logged. */
async function startGateway(config: GatewayConfig): Promise<{ url: string; logs: Record<string, unknown>[]; stop: () => Promise<void> }> {
  const logs: Record<string, unknown>[] = [];
  const server = createHttpServer({ name: 'gateway', routes: gatewayRoutes(config), log: (fields) => logs.push(fields) });
  const url = await listen(server);
  return { url, logs, stop: () => close(server) };
}

describe('gateway', () => {
  /** What the fake services answer next, by "METHOD path". */
  let answers: Map<string, { status: number; body: unknown; headers?: Record<string, string> }>;
  let orders: FakeService;
  let inventory: FakeService;
  let gateway: Awaited<ReturnType<typeof startGateway>>;

  const respond = (req: Received, res: Parameters<Parameters<typeof fakeService>[0]>[1]): void => {
    const answer = answers.get(`${req.method} ${req.url}`) ?? { status: 404, body: { error: 'not_found' } };
    sendJson(res, answer.status, answer.body, answer.headers);
  };

  before(async () => {
    orders = await fakeService(respond);
    inventory = await fakeService(respond);
    gateway = await startGateway({ ordersUrl: orders.url, inventoryUrl: inventory.url });
  });
  after(async () => {
    await gateway.stop();
    await orders.close();
    await inventory.close();
  });
  beforeEach(() => {
    answers = new Map();
    orders.received.length = 0;
    inventory.received.length = 0;
  });

  describe('routing', () => {
    it('answers its own health check without asking anyone', async () => {
      const answer = await call(`${gateway.url}/health`);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { status: 'ok' });
      assert.equal(orders.received.length + inventory.received.length, 0);
    });

    it('forwards POST /orders to orders with the body, and the answer back unchanged', async () => {
      const order = { id: 'o-1', sku: 'widget', quantity: 3, status: 'confirmed' };
      answers.set('POST /orders', { status: 201, body: order, headers: { location: '/orders/o-1' } });
      const answer = await postJson(`${gateway.url}/orders`, { sku: 'widget', quantity: 3 });
      assert.equal(answer.status, 201);
      assert.deepEqual(answer.body, order);
      assert.equal(answer.headers.get('location'), '/orders/o-1');
      assert.equal(orders.received.length, 1);
      const [forwarded] = orders.received;
      assert.equal(forwarded?.method, 'POST');
      assert.deepEqual(JSON.parse(forwarded?.body ?? ''), { sku: 'widget', quantity: 3 });
      assert.equal(forwarded?.headers['content-type'], 'application/json');
      assert.equal(inventory.received.length, 0);
    });

    it('forwards GET /orders/:id, encoding the id again', async () => {
      answers.set('GET /orders/a%2Fb%20c', { status: 404, body: { error: 'order_not_found' } });
      const answer = await call(`${gateway.url}/orders/a%2Fb%20c`);
      assert.equal(answer.status, 404);
      assert.deepEqual(answer.body, { error: 'order_not_found' });
      assert.deepEqual(
        orders.received.map((r) => `${r.method} ${r.url}`),
        ['GET /orders/a%2Fb%20c'],
      );
    });

    it('forwards GET /stock and GET /stock/:sku to the inventory', async () => {
      answers.set('GET /stock', { status: 200, body: [{ sku: 'widget', available: 7 }] });
      answers.set('GET /stock/widget', { status: 200, body: { sku: 'widget', available: 7 } });
      assert.deepEqual((await call(`${gateway.url}/stock`)).body, [{ sku: 'widget', available: 7 }]);
      assert.deepEqual((await call(`${gateway.url}/stock/widget`)).body, { sku: 'widget', available: 7 });
      assert.deepEqual(
        inventory.received.map((r) => `${r.method} ${r.url}`),
        ['GET /stock', 'GET /stock/widget'],
      );
      assert.equal(orders.received.length, 0);
    });

    it('answers 404 for an unknown path and 405 for a known path with another method', async () => {
      const unknown = await call(`${gateway.url}/basket`);
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.body, { error: 'not_found', message: 'no route for GET /basket' });
      const wrongMethod = await call(`${gateway.url}/stock`, { method: 'DELETE' });
      assert.equal(wrongMethod.status, 405);
      assert.deepEqual(wrongMethod.body, { error: 'method_not_allowed', message: 'DELETE is not allowed on /stock' });
      assert.equal(orders.received.length + inventory.received.length, 0);
    });

    it('passes error answers of a service through with their status', async () => {
      answers.set('POST /orders', { status: 409, body: { error: 'out_of_stock', available: 1 } });
      const answer = await postJson(`${gateway.url}/orders`, { sku: 'gizmo', quantity: 5 });
      assert.equal(answer.status, 409);
      assert.deepEqual(answer.body, { error: 'out_of_stock', available: 1 });
    });
  });

  describe('headers', () => {
    it('passes the Idempotency-Key on, and idempotent-replayed back', async () => {
      answers.set('POST /orders', { status: 201, body: { id: 'o-1' }, headers: { 'idempotent-replayed': 'true' } });
      const answer = await postJson(`${gateway.url}/orders`, { sku: 'widget', quantity: 1 }, { 'idempotency-key': 'cart-42' });
      assert.equal(answer.headers.get('idempotent-replayed'), 'true');
      assert.equal(orders.received[0]?.headers['idempotency-key'], 'cart-42');
    });

    it('does not pass on other headers of the client', async () => {
      answers.set('GET /stock', { status: 200, body: [] });
      await call(`${gateway.url}/stock`, { headers: { authorization: 'Bearer secret', cookie: 'a=b' } });
      const headers = inventory.received[0]?.headers ?? {};
      assert.equal(headers['authorization'], undefined);
      assert.equal(headers['cookie'], undefined);
    });

    it("keeps the caller's x-request-id, passes it on and logs it", async () => {
      answers.set('GET /stock', { status: 200, body: [] });
      const answer = await call(`${gateway.url}/stock`, { headers: { 'x-request-id': 'req-123' } });
      assert.equal(answer.headers.get('x-request-id'), 'req-123');
      assert.equal(inventory.received[0]?.headers['x-request-id'], 'req-123');
      assert.ok(gateway.logs.some((line) => line['msg'] === 'request' && line['requestId'] === 'req-123' && line['status'] === 200));
    });

    it('replaces a malformed x-request-id with a new UUID', async () => {
      answers.set('GET /stock', { status: 200, body: [] });
      const answer = await call(`${gateway.url}/stock`, { headers: { 'x-request-id': 'no spaces allowed' } });
      const id = answer.headers.get('x-request-id') ?? '';
      assert.match(id, UUID);
      assert.equal(inventory.received[0]?.headers['x-request-id'], id);
    });
  });

  describe('validation before forwarding', () => {
    const cases: [string, RequestInit, number, string][] = [
      ['malformed JSON', { body: '{"sku": ', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json'],
      ['an empty body', { body: '', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json'],
      ['a body that is not JSON', { body: 'sku=widget', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type'],
      ['a body over 16 KiB', { body: JSON.stringify({ note: 'x'.repeat(17 * 1024) }), headers: { 'content-type': 'application/json' } }, 413, 'body_too_large'],
    ];
    for (const [what, init, status, code] of cases) {
      it(`refuses ${what} with ${status} ${code}, and orders is not asked`, async () => {
        const answer = await call(`${gateway.url}/orders`, { method: 'POST', ...init });
        assert.equal(answer.status, status);
        assert.equal((answer.body as { error?: unknown }).error, code);
        assert.equal(orders.received.length, 0);
      });
    }

    it('accepts a +json content type', async () => {
      answers.set('POST /orders', { status: 201, body: { id: 'o-2' } });
      const answer = await call(`${gateway.url}/orders`, {
        method: 'POST',
        body: '{"sku":"widget","quantity":1}',
        headers: { 'content-type': 'application/vnd.shop+json; charset=utf-8' },
      });
      assert.equal(answer.status, 201);
      assert.equal(orders.received.length, 1);
    });
  });
});

describe('gateway in front of failing services', () => {
  it('answers 502 upstream_unreachable when a service does not accept connections', async () => {
    const gateway = await startGateway({ ordersUrl: await unusedUrl(), inventoryUrl: await unusedUrl() });
    try {
      const answer = await call(`${gateway.url}/stock`);
      assert.equal(answer.status, 502);
      assert.equal((answer.body as { error?: unknown }).error, 'upstream_unreachable');
    } finally {
      await gateway.stop();
    }
  });

  it('answers 502 upstream_invalid when a service answers without JSON', async () => {
    const broken = await fakeService((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>oops</h1>');
    });
    const gateway = await startGateway({ ordersUrl: broken.url, inventoryUrl: broken.url });
    try {
      const answer = await call(`${gateway.url}/orders/o-1`);
      assert.equal(answer.status, 502);
      assert.equal((answer.body as { error?: unknown }).error, 'upstream_invalid');
      assert.match((answer.body as { message: string }).message, /answered 500 without JSON/);
    } finally {
      await gateway.stop();
      await broken.close();
    }
  });

  it('answers 504 upstream_timeout when a service takes too long, for the headers or the body', async () => {
    const slow = await fakeService((req, res) => {
      // /stock: no answer at all; /stock/widget: headers at once, then nothing more.
      if (req.url === '/stock/widget') res.writeHead(200, { 'content-type': 'application/json' }).write('{"sku":');
    });
    const gateway = await startGateway({ ordersUrl: slow.url, inventoryUrl: slow.url, timeoutMs: 200 });
    try {
      for (const path of ['/stock', '/stock/widget']) {
        const started = Date.now();
        const answer = await call(`${gateway.url}${path}`);
        assert.equal(answer.status, 504, path);
        assert.equal((answer.body as { error?: unknown }).error, 'upstream_timeout');
        assert.ok(Date.now() - started < 5_000, 'the timeout ends the wait');
      }
    } finally {
      await gateway.stop();
      await slow.close();
    }
  });
});
