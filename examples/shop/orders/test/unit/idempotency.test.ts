/**
 * Orders end to end idempotent: the order id derived from the Idempotency-Key, reservations
 * retried under that id when their answer is lost, one order for concurrent attempts with one
 * key — and the broken variant (SHOP_IDEMPOTENCY=off) taking stock twice for a duplicated call.
 * The inventory here is the real in-memory `Inventory`, behind a fake call that can lose answers
 * or deliver a reservation twice, as the mesh's faults do.
 */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, it } from 'node:test';
import { Inventory, parseStock, type ReserveOutcome } from '../../../inventory/src/stock.js';
import { HttpError, createHttpServer } from '../../../shared/http.js';
import { isUuid } from '../../../shared/validate.js';
import { call, close, listen } from '../../../shared/testing.js';
import type { ReservationResult } from '../../src/inventory-client.js';
import { orderIdForKey } from '../../src/order-id.js';
import { ordersRoutes, placeOrder, type OrdersDeps } from '../../src/orders.js';
import { MemoryStore } from './memory-store.js';

const FAST_RETRY = { attempts: 3, backoffMs: 1, totalMs: 5_000 };
const lost = (): HttpError => new HttpError(502, 'inventory_unreachable', 'the inventory is unreachable: socket hang up');

/** What the fake call does with one reservation: deliver it (once or twice), and lose the answer or not. */
type Delivery = 'once' | 'twice' | 'reserve-then-lose' | 'lose-before' | 'unavailable';

/** What the inventory answers, as reserveStock reads it. */
function asResult(outcome: ReserveOutcome): ReservationResult {
  switch (outcome.kind) {
    case 'reserved':
    case 'replayed':
      return { kind: 'reserved' };
    case 'out_of_stock':
      return { kind: 'out_of_stock', available: outcome.available };
    default:
      return { kind: outcome.kind };
  }
}

describe('orderIdForKey', () => {
  it('gives the same UUID (version 8) for the same key, and another for another key', () => {
    const id = orderIdForKey('cart-42');
    assert.equal(orderIdForKey('cart-42'), id);
    assert.ok(isUuid(id), id);
    assert.equal(id[14], '8', 'version 8');
    assert.match(id[19] ?? '', /[89ab]/, 'variant 10');
    assert.notEqual(orderIdForKey('cart-43'), id);
    assert.notEqual(orderIdForKey('Cart-42'), id);
  });

  it('is sha256 of the namespaced key: stable across versions and replicas', () => {
    // sha256("shop.orders:cart-42"), first 16 bytes, version and variant bits set.
    assert.equal(orderIdForKey('cart-42'), '4807b52f-cbb9-885a-88f4-8d9652ad5ea0');
  });
});

describe('placing an order idempotently', () => {
  let store: MemoryStore;
  let inventory: Inventory;
  /** Order ids of every reservation delivered to the inventory, in order. */
  let delivered: string[];
  /** How each coming call goes; 'once' when the list is used up. */
  let plan: Delivery[];
  let deps: OrdersDeps;

  /** The inventory as orders calls it, delivering and answering as `plan` says. */
  const reserveStock: OrdersDeps['reserveStock'] = async (request) => {
    const how = plan.shift() ?? 'once';
    if (how === 'lose-before') throw lost();
    if (how === 'unavailable') throw new HttpError(502, 'inventory_unavailable', 'the inventory answered 503');
    delivered.push(request.orderId);
    const outcome = inventory.reserve(request);
    if (how === 'twice') {
      delivered.push(request.orderId);
      inventory.reserve(request);
    }
    await sleep(1);
    if (how === 'reserve-then-lose') throw lost();
    return asResult(outcome);
  };
  const place = (d: OrdersDeps, key: string | undefined, body: unknown = { sku: 'widget', quantity: 2 }) =>
    placeOrder(d, { body, idempotencyKey: key, requestId: 'req-1' });
  const available = (): number | undefined => inventory.available('widget');

  beforeEach(() => {
    store = new MemoryStore();
    inventory = new Inventory(parseStock('widget=10'));
    delivered = [];
    plan = [];
    deps = { store, reserveStock, reserveRetry: FAST_RETRY };
  });

  it('stores the order under the id derived from its key, and reserves under that id', async () => {
    const reply = await place(deps, 'cart-1');
    const id = orderIdForKey('cart-1');
    assert.equal(reply.status, 201);
    assert.equal((reply.body as { id: string }).id, id);
    assert.deepEqual(delivered, [id]);
  });

  it('retries a reservation whose answer was lost under the same order id, and takes stock once', async () => {
    plan = ['reserve-then-lose', 'reserve-then-lose'];
    const reply = await place(deps, 'cart-2');
    assert.equal(reply.status, 201);
    const id = orderIdForKey('cart-2');
    assert.deepEqual(delivered, [id, id, id], 'three attempts, one order id');
    assert.equal(available(), 8, 'stock taken once');
    assert.equal(store.orders.size, 1);
  });

  it('retries a reservation lost on the way, or refused as unavailable (502/503/504)', async () => {
    plan = ['lose-before', 'unavailable'];
    assert.equal((await place(deps, 'cart-3')).status, 201);
    assert.equal(delivered.length, 1);
    assert.equal(available(), 8);
  });

  it('gives up after 3 attempts with the last error and stores nothing; the same key later takes stock once', async () => {
    plan = ['reserve-then-lose', 'reserve-then-lose', 'reserve-then-lose'];
    await assert.rejects(place(deps, 'cart-4'), (error: unknown) => error instanceof HttpError && error.status === 502 && error.code === 'inventory_unreachable');
    assert.equal(delivered.length, 3);
    assert.equal(store.orders.size, 0, 'rolled back');
    assert.equal(available(), 8, 'the inventory holds the reservation');
    // The gateway (or the client) tries again with the same key: the same order id, replayed.
    const reply = await place(deps, 'cart-4');
    assert.equal(reply.status, 201);
    assert.equal((reply.body as { id: string }).id, orderIdForKey('cart-4'));
    assert.equal(available(), 8, 'still taken once');
    assert.equal(store.orders.size, 1);
  });

  it('does not retry what would only come again: out of stock, an unknown sku, another failure', async () => {
    await assert.rejects(place(deps, 'cart-5', { sku: 'widget', quantity: 11 }), (error: unknown) => error instanceof HttpError && error.code === 'out_of_stock');
    await assert.rejects(place(deps, 'cart-6', { sku: 'sprocket', quantity: 1 }), (error: unknown) => error instanceof HttpError && error.code === 'unknown_sku');
    let calls = 0;
    const failing: OrdersDeps = {
      ...deps,
      reserveStock: () => {
        calls++;
        return Promise.reject(new HttpError(502, 'inventory_error', 'the inventory answered 500'));
      },
    };
    await assert.rejects(place(failing, 'cart-7'), (error: unknown) => error instanceof HttpError && error.code === 'inventory_error');
    assert.equal(calls, 1);
    assert.equal(delivered.length, 2);
  });

  it('gives each attempt no more than what is left of the retries\' time', async () => {
    const timeouts: (number | undefined)[] = [];
    const timed: OrdersDeps = {
      ...deps,
      reserveRetry: { attempts: 3, backoffMs: 1, totalMs: 1_000 },
      reserveStock: (request, requestId, timeoutMs) => {
        timeouts.push(timeoutMs);
        return timeouts.length < 3 ? Promise.reject(lost()) : reserveStock(request, requestId);
      },
    };
    assert.equal((await place(timed, 'cart-timed')).status, 201);
    assert.equal(timeouts.length, 3);
    for (const t of timeouts) assert.ok(t !== undefined && t > 0 && t <= 1_000, String(t));
  });

  it('creates one order, reserving once, when the same key arrives five times at once', async () => {
    const slow: OrdersDeps = {
      ...deps,
      reserveStock: async (request, requestId) => {
        await sleep(50);
        return reserveStock(request, requestId);
      },
    };
    const replies = await Promise.all(Array.from({ length: 5 }, () => place(slow, 'cart-burst')));
    assert.deepEqual(new Set(replies.map((r) => (r.body as { id: string }).id)), new Set([orderIdForKey('cart-burst')]));
    assert.equal(replies.filter((r) => r.headers?.['idempotent-replayed'] === 'true').length, 4);
    assert.equal(delivered.length, 1, 'the others waited for the first, then replayed it');
    assert.equal(store.orders.size, 1);
    assert.equal(available(), 8);
  });

  it('answers 409 order_in_progress, reserving nothing, when the first attempt outlasts the wait', async () => {
    store.lockTimeoutMs = 30;
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stuck: OrdersDeps = {
      ...deps,
      reserveStock: async (request, requestId) => {
        await held;
        return reserveStock(request, requestId);
      },
    };
    const first = place(stuck, 'cart-slow');
    await sleep(5);
    await assert.rejects(place(stuck, 'cart-slow'), (error: unknown) => error instanceof HttpError && error.status === 409 && error.code === 'order_in_progress');
    release();
    assert.equal((await first).status, 201);
    assert.equal(delivered.length, 1);
    assert.equal(available(), 8);
  });

  it('answers 422 when the id of a key holds a reservation of another order (the earlier one was not stored)', async () => {
    inventory.reserve({ sku: 'widget', quantity: 1, orderId: orderIdForKey('cart-8') });
    await assert.rejects(place(deps, 'cart-8'), (error: unknown) => error instanceof HttpError && error.status === 422 && error.code === 'idempotency_key_reused');
    assert.equal(store.orders.size, 0);
  });

  it('takes stock once for a duplicated reservation call', async () => {
    plan = ['twice'];
    await place(deps, 'cart-9');
    assert.equal(delivered.length, 2);
    assert.equal(available(), 8);
  });

  describe('with SHOP_IDEMPOTENCY=off (the broken variant)', () => {
    beforeEach(() => {
      inventory = new Inventory(parseStock('widget=10'), { dedupe: false });
      deps = { ...deps, idempotency: false };
    });

    it('takes stock twice for a duplicated reservation call, though one order is stored', async () => {
      plan = ['twice'];
      await place(deps, undefined);
      assert.equal(store.orders.size, 1);
      assert.equal(available(), 6, 'the duplicate took stock too');
      assert.deepEqual(inventory.audit()['widget'], { initial: 10, available: 6, reserved: 4, reservations: 2 });
      assert.deepEqual(await store.audit(undefined), { widget: { count: 1, quantity: 2 } });
    });

    it('does not retry a lost answer, and a new attempt with the same key reserves again under a new id', async () => {
      plan = ['reserve-then-lose'];
      await assert.rejects(place(deps, 'cart-10'), (error: unknown) => error instanceof HttpError && error.code === 'inventory_unreachable');
      assert.equal(delivered.length, 1);
      await place(deps, 'cart-10');
      assert.equal(delivered.length, 2);
      assert.notEqual(delivered[0], delivered[1]);
      assert.equal(available(), 6, 'stock taken for an order that was stored once');
    });
  });
});

describe('GET /audit on orders', () => {
  it('counts stored orders and their quantities per sku, from `since` when given', async () => {
    const store = new MemoryStore();
    store.add({ id: orderIdForKey('a'), sku: 'widget', quantity: 2, idempotencyKey: 'a' });
    store.add({ id: orderIdForKey('b'), sku: 'widget', quantity: 3, idempotencyKey: 'b' });
    store.add({ id: orderIdForKey('c'), sku: 'gizmo', quantity: 1, idempotencyKey: undefined });
    const server = createHttpServer({ name: 'orders', routes: ordersRoutes({ store, reserveStock: () => Promise.resolve({ kind: 'reserved' }) }), log: () => undefined });
    const url = await listen(server);
    try {
      assert.deepEqual((await call(`${url}/audit`)).body, { since: null, skus: { widget: { count: 2, quantity: 5 }, gizmo: { count: 1, quantity: 1 } } });
      // The memory store's orders are all from 2025-01-02.
      assert.deepEqual((await call(`${url}/audit?since=2030-01-01T00:00:00Z`)).body, { since: '2030-01-01T00:00:00.000Z', skus: {} });
      const bad = await call(`${url}/audit?since=yesterday`);
      assert.equal(bad.status, 400);
      assert.equal((bad.body as { error?: unknown }).error, 'invalid_request');
    } finally {
      await close(server);
    }
  });
});
