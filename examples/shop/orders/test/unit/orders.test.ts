/**
 * Placing and reading orders with the database abstracted: an in-memory store with the same
 * contract as the PostgreSQL one, and a fake inventory. Covers validation, idempotency keys
 * (replay, reuse for another order, a concurrent request that won) and the inventory's answers.
 */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { HttpError, createHttpServer } from '../../../shared/http.js';
import { call, close, listen, postJson } from '../../../shared/testing.js';
import type { ReservationResult } from '../../src/inventory-client.js';
import { orderIdForKey } from '../../src/order-id.js';
import { getOrder, ordersRoutes, placeOrder, replay, type OrdersDeps, type PlaceOrderInput } from '../../src/orders.js';
import type { StoredOrder } from '../../src/store.js';
import { CREATED_AT, MemoryStore } from './memory-store.js';

/** Runs `fn`, expecting an HttpError with this status and code; returns it. */
async function rejectsWith(fn: () => Promise<unknown>, status: number, code: string): Promise<HttpError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof HttpError, `expected an HttpError, got ${String(caught)}`);
  assert.equal(caught.status, status);
  assert.equal(caught.code, code);
  return caught;
}

describe('placeOrder', () => {
  let store: MemoryStore;
  let reservations: { sku: string; quantity: number; orderId: string; requestId: string }[];
  let inventoryAnswer: ReservationResult | Error;
  let ids: number;
  let deps: OrdersDeps;
  const input = (body: unknown, idempotencyKey?: string | string[]): PlaceOrderInput => ({ body, idempotencyKey, requestId: 'req-1' });

  beforeEach(() => {
    store = new MemoryStore();
    reservations = [];
    inventoryAnswer = { kind: 'reserved' };
    ids = 0;
    deps = {
      store,
      newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
      reserveStock: (request, requestId) => {
        reservations.push({ ...request, requestId });
        return inventoryAnswer instanceof Error ? Promise.reject(inventoryAnswer) : Promise.resolve(inventoryAnswer);
      },
    };
  });

  it('stores the order once the inventory reserved its stock, and answers 201 with its location', async () => {
    const reply = await placeOrder(deps, input({ sku: 'widget', quantity: 3 }));
    const id = '00000000-0000-4000-8000-000000000001';
    assert.deepEqual(reply, {
      status: 201,
      body: { id, sku: 'widget', quantity: 3, status: 'confirmed', createdAt: CREATED_AT },
      headers: { location: `/orders/${id}` },
    });
    assert.deepEqual(reservations, [{ sku: 'widget', quantity: 3, orderId: id, requestId: 'req-1' }]);
    assert.ok(store.orders.has(id));
  });

  it('refuses an invalid body with 400 and every problem, asking neither store nor inventory', async () => {
    const error = await rejectsWith(() => placeOrder(deps, input({ sku: '', quantity: 0 })), 400, 'invalid_request');
    assert.deepEqual(error.details, {
      details: ["sku: must be a string of 1-64 letters, digits, '.', '_' or '-'", 'quantity: must be a whole number from 1 to 1000'],
    });
    assert.deepEqual(store.calls, []);
    assert.deepEqual(reservations, []);
  });

  it('refuses an invalid Idempotency-Key with 400', async () => {
    await rejectsWith(() => placeOrder(deps, input({ sku: 'widget', quantity: 1 }, ['a', 'b'])), 400, 'invalid_request');
    await rejectsWith(() => placeOrder(deps, input({ sku: 'widget', quantity: 1 }, 'has space')), 400, 'invalid_request');
    assert.deepEqual(store.calls, []);
  });

  it('answers a repeated Idempotency-Key with the same order, marked as replayed, and reserves once', async () => {
    const first = await placeOrder(deps, input({ sku: 'widget', quantity: 2 }, 'cart-42'));
    const again = await placeOrder(deps, input({ sku: 'widget', quantity: 2 }, 'cart-42'));
    assert.deepEqual(again.body, first.body);
    assert.equal(again.status, 201);
    assert.equal(again.headers?.['idempotent-replayed'], 'true');
    assert.equal(first.headers?.['idempotent-replayed'], undefined);
    assert.equal(reservations.length, 1);
    assert.equal(store.orders.size, 1);
  });

  it('refuses an Idempotency-Key used for a different order with 422, naming that order', async () => {
    await placeOrder(deps, input({ sku: 'widget', quantity: 2 }, 'cart-42'));
    for (const other of [
      { sku: 'widget', quantity: 3 },
      { sku: 'gadget', quantity: 2 },
    ]) {
      const error = await rejectsWith(() => placeOrder(deps, input(other, 'cart-42')), 422, 'idempotency_key_reused');
      assert.deepEqual(error.details, { orderId: orderIdForKey('cart-42') });
    }
    assert.equal(reservations.length, 1);
  });

  it('orders without a key are separate orders', async () => {
    await placeOrder(deps, input({ sku: 'widget', quantity: 1 }));
    await placeOrder(deps, input({ sku: 'widget', quantity: 1 }));
    assert.equal(store.orders.size, 2);
    assert.equal(reservations.length, 2);
  });

  it('answers with the order of a concurrent request that stored the same key first', async () => {
    const winner = store.add({ id: '11111111-1111-4111-8111-111111111111', sku: 'widget', quantity: 2, idempotencyKey: 'cart-7' });
    store.inFlight.add('cart-7');
    const reply = await placeOrder(deps, input({ sku: 'widget', quantity: 2 }, 'cart-7'));
    assert.deepEqual(reply.body, winner.order);
    assert.equal(reply.headers?.['idempotent-replayed'], 'true');
    assert.deepEqual(reservations, [], 'the loser reserves nothing');
  });

  it('answers 409 out_of_stock with what is left, and stores nothing', async () => {
    inventoryAnswer = { kind: 'out_of_stock', available: 1 };
    const error = await rejectsWith(() => placeOrder(deps, input({ sku: 'gizmo', quantity: 2 }, 'cart-9')), 409, 'out_of_stock');
    assert.equal(error.message, 'only 1 of gizmo left');
    assert.deepEqual(error.details, { available: 1 });
    assert.equal(store.orders.size, 0);
  });

  it('answers 422 unknown_sku when the inventory does not know the sku, and stores nothing', async () => {
    inventoryAnswer = { kind: 'unknown_sku' };
    await rejectsWith(() => placeOrder(deps, input({ sku: 'sprocket', quantity: 1 })), 422, 'unknown_sku');
    assert.equal(store.orders.size, 0);
  });

  it('lets a key be used again after its order was declined', async () => {
    inventoryAnswer = { kind: 'out_of_stock', available: 0 };
    await rejectsWith(() => placeOrder(deps, input({ sku: 'gizmo', quantity: 1 }, 'cart-3')), 409, 'out_of_stock');
    inventoryAnswer = { kind: 'reserved' };
    const reply = await placeOrder(deps, input({ sku: 'gizmo', quantity: 1 }, 'cart-3'));
    assert.equal(reply.status, 201);
    assert.equal(reply.headers?.['idempotent-replayed'], undefined);
  });

  it('passes on a failure of the inventory (502/504), storing nothing', async () => {
    inventoryAnswer = new HttpError(504, 'inventory_timeout', 'the inventory did not answer within 5000 ms');
    await rejectsWith(() => placeOrder(deps, input({ sku: 'widget', quantity: 1 })), 504, 'inventory_timeout');
    assert.equal(store.orders.size, 0);
  });
});

describe('replay', () => {
  const stored: StoredOrder = {
    order: { id: 'o-1', sku: 'widget', quantity: 2, status: 'confirmed', createdAt: CREATED_AT },
    idempotencyKey: 'k',
  };

  it('answers the stored order when the request matches', () => {
    assert.deepEqual(replay(stored, { sku: 'widget', quantity: 2 }), {
      status: 201,
      body: stored.order,
      headers: { location: '/orders/o-1', 'idempotent-replayed': 'true' },
    });
  });

  it('throws 422 when it does not', () => {
    assert.throws(() => replay(stored, { sku: 'widget', quantity: 1 }), (error: unknown) => error instanceof HttpError && error.status === 422);
  });
});

describe('getOrder', () => {
  it('answers a stored order', async () => {
    const store = new MemoryStore();
    const { order } = store.add({ id: '22222222-2222-4222-8222-222222222222', sku: 'widget', quantity: 1, idempotencyKey: undefined });
    assert.deepEqual(await getOrder(store, order.id), { status: 200, body: order });
  });

  it('answers 404 for an unknown id', async () => {
    await rejectsWith(() => getOrder(new MemoryStore(), '33333333-3333-4333-8333-333333333333'), 404, 'order_not_found');
  });

  it('answers 404 for an id that is not a UUID, without asking the store', async () => {
    const store = new MemoryStore();
    await rejectsWith(() => getOrder(store, "1' OR '1'='1"), 404, 'order_not_found');
    assert.deepEqual(store.calls, []);
  });
});

describe('orders API', () => {
  it('maps requests to placeOrder and getOrder, and reports the database in its health check', async () => {
    const store = new MemoryStore();
    const server = createHttpServer({
      name: 'orders',
      routes: ordersRoutes({ store, reserveStock: () => Promise.resolve({ kind: 'reserved' }) }),
      log: () => undefined,
    });
    const url = await listen(server);
    try {
      assert.deepEqual((await call(`${url}/health`)).body, { status: 'ok', db: 'ok' });
      const created = await postJson(`${url}/orders`, { sku: 'widget', quantity: 1 }, { 'idempotency-key': 'k-1' });
      assert.equal(created.status, 201);
      const location = created.headers.get('location') ?? '';
      assert.match(location, /^\/orders\/[0-9a-f-]{36}$/);
      const replayed = await postJson(`${url}/orders`, { sku: 'widget', quantity: 1 }, { 'idempotency-key': 'k-1' });
      assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(replayed.body, created.body);
      assert.deepEqual((await call(`${url}${location}`)).body, created.body);
      const invalid = await postJson(`${url}/orders`, { sku: 'widget' });
      assert.equal(invalid.status, 400);
      assert.deepEqual(invalid.body, { error: 'invalid_request', message: 'the order is not valid', details: ['quantity: must be a whole number from 1 to 1000'] });

      store.down = true;
      const health = await call(`${url}/health`);
      assert.equal(health.status, 503);
      assert.equal((health.body as { error?: unknown }).error, 'db_unavailable');
    } finally {
      await close(server);
    }
  });
});
