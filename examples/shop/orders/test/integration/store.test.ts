/**
 * The orders store against a real PostgreSQL, with the real schema and table names: run by
 * the `integration` suite with `needs: [db]`, so each run gets a database of its own (PGHOST,
 * PGUSER, PGPASSWORD and PGDATABASE come from the service's environment). Covers the
 * migration, the constraints, idempotency keys under concurrency, and that an order the
 * inventory refuses (or fails on) leaves nothing behind — with a fake inventory on port 0.
 */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import pg from 'pg';
import { HttpError } from '../../../shared/http.js';
import { fakeService, sendJson, unusedUrl, type FakeService } from '../../../shared/testing.js';
import { reserveStock } from '../../src/inventory-client.js';
import { orderIdForKey } from '../../src/order-id.js';
import { placeOrder, type OrdersDeps } from '../../src/orders.js';
import { auditOrders, createOrder, findOrder, findOrderByKey, migrate, pgOrderStore, type Confirmation } from '../../src/store.js';

/** How long the database may take to accept connections (it may be starting with the suite). */
const DB_WAIT_MS = 60_000;

const pool = new pg.Pool({ max: 8, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });

async function waitForDatabase(): Promise<void> {
  const deadline = Date.now() + DB_WAIT_MS;
  for (;;) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL at ${process.env['PGHOST'] ?? 'localhost'} did not answer within ${DB_WAIT_MS} ms: ${String(error)}`);
      await sleep(500);
    }
  }
}

async function rowsWithId(id: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE id = $1', [id]);
  return rows[0]?.n ?? -1;
}

/** A promise with its resolve function, to hold a step until the test lets it go on. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open: (value: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const ok = (): Promise<Confirmation<never>> => Promise.resolve({ ok: true });

before(waitForDatabase);
after(() => pool.end());

describe('schema', () => {
  it('starts from a database of its own: no orders table before the migration', async () => {
    const { rows } = await pool.query<{ t: string | null }>("SELECT to_regclass('public.orders')::text AS t");
    assert.equal(rows[0]?.t, null, 'the orders table exists already: each run of this suite needs a fresh database (needs: [db])');
  });

  it('migrates, also when replicas start at once, and again without harm', async () => {
    await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
    await migrate(pool);
    const { rows } = await pool.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = 'orders' ORDER BY ordinal_position`,
    );
    assert.deepEqual(
      rows.map((r) => `${r.column_name} ${r.data_type}${r.is_nullable === 'NO' ? ' not null' : ''}`),
      ['id uuid not null', 'sku text not null', 'quantity integer not null', 'status text not null', 'idempotency_key text', 'created_at timestamp with time zone not null'],
    );
  });

  it('refuses a second order with the same idempotency key (unique constraint), but not two without one', async () => {
    const insert = (key: string | null): Promise<unknown> =>
      pool.query("INSERT INTO orders (id, sku, quantity, status, idempotency_key) VALUES ($1, 'widget', 1, 'confirmed', $2)", [randomUUID(), key]);
    await insert('schema-key');
    await assert.rejects(insert('schema-key'), (error: unknown) => {
      const { code, constraint } = error as { code?: string; constraint?: string };
      assert.equal(code, '23505'); // unique_violation
      assert.equal(constraint, 'orders_idempotency_key_key');
      return true;
    });
    await insert(null);
    await insert(null);
  });

  it('refuses a quantity below 1 (check constraint)', async () => {
    await assert.rejects(
      pool.query("INSERT INTO orders (id, sku, quantity, status) VALUES ($1, 'widget', 0, 'confirmed')", [randomUUID()]),
      (error: unknown) => (error as { code?: string }).code === '23514', // check_violation
    );
  });
});

describe('createOrder', () => {
  it('stores a confirmed order, found by id and by key', async () => {
    const id = randomUUID();
    const outcome = await createOrder(pool, { id, sku: 'widget', quantity: 3, idempotencyKey: 'store-1' }, ok);
    assert.equal(outcome.kind, 'created');
    const byId = await findOrder(pool, id);
    assert.deepEqual(byId?.order, outcome.kind === 'created' ? outcome.order : undefined);
    assert.equal(byId?.order.status, 'confirmed');
    assert.ok(Math.abs(Date.parse(byId?.order.createdAt ?? '') - Date.now()) < 60_000, 'createdAt is now');
    assert.deepEqual(await findOrderByKey(pool, 'store-1'), byId);
    assert.equal(byId?.idempotencyKey, 'store-1');
  });

  it('answers the stored order for a known key, without confirming again', async () => {
    const first = await createOrder(pool, { id: randomUUID(), sku: 'widget', quantity: 1, idempotencyKey: 'store-2' }, ok);
    let confirmed = 0;
    const second = await createOrder(pool, { id: randomUUID(), sku: 'widget', quantity: 1, idempotencyKey: 'store-2' }, () => {
      confirmed++;
      return ok();
    });
    assert.equal(second.kind, 'exists');
    assert.equal(second.kind === 'exists' && first.kind === 'created' ? second.stored.order.id : '', first.kind === 'created' ? first.order.id : 'x');
    assert.equal(confirmed, 0);
  });

  it('rolls the order back when confirm declines, and frees its key', async () => {
    const id = randomUUID();
    const outcome = await createOrder(pool, { id, sku: 'widget', quantity: 1, idempotencyKey: 'store-3' }, () =>
      Promise.resolve({ ok: false, reason: 'no stock' }),
    );
    assert.deepEqual(outcome, { kind: 'declined', reason: 'no stock' });
    assert.equal(await rowsWithId(id), 0);
    assert.equal(await findOrderByKey(pool, 'store-3'), undefined);
    assert.equal((await createOrder(pool, { id: randomUUID(), sku: 'widget', quantity: 1, idempotencyKey: 'store-3' }, ok)).kind, 'created');
  });

  it('rolls the order back when confirm throws, and gives the connection back', async () => {
    const id = randomUUID();
    await assert.rejects(
      createOrder(pool, { id, sku: 'widget', quantity: 1, idempotencyKey: undefined }, () => Promise.reject(new Error('inventory down'))),
      /inventory down/,
    );
    assert.equal(await rowsWithId(id), 0);
    assert.equal(pool.totalCount - pool.idleCount, 0, 'no connection is left checked out');
  });

  it('makes a concurrent request with the same key wait for the first, then answer its order', async () => {
    const held = gate();
    const confirming = gate();
    const firstId = randomUUID();
    const first = createOrder(pool, { id: firstId, sku: 'widget', quantity: 2, idempotencyKey: 'store-race' }, async () => {
      confirming.open();
      await held.promise;
      return { ok: true };
    });
    await confirming.promise; // the first row is inserted, its transaction still open
    let secondDone = false;
    const second = createOrder(pool, { id: randomUUID(), sku: 'widget', quantity: 2, idempotencyKey: 'store-race' }, () => {
      throw new Error('the second request must not confirm');
    }).finally(() => {
      secondDone = true;
    });
    await sleep(300);
    assert.equal(secondDone, false, 'the second request waits on the first one’s row');
    held.open();
    assert.equal((await first).kind, 'created');
    const outcome = await second;
    assert.equal(outcome.kind, 'exists');
    assert.equal(outcome.kind === 'exists' ? outcome.stored.order.id : '', firstId);
  });

  it('lets the waiting request go ahead when the first one is declined', async () => {
    const held = gate();
    const confirming = gate();
    const first = createOrder(pool, { id: randomUUID(), sku: 'widget', quantity: 2, idempotencyKey: 'store-race-2' }, async () => {
      confirming.open();
      await held.promise;
      return { ok: false, reason: 'out of stock' };
    });
    await confirming.promise;
    const secondId = randomUUID();
    const second = createOrder(pool, { id: secondId, sku: 'widget', quantity: 2, idempotencyKey: 'store-race-2' }, ok);
    await sleep(100);
    held.open();
    assert.equal((await first).kind, 'declined');
    assert.equal((await second).kind, 'created');
    assert.equal((await findOrderByKey(pool, 'store-race-2'))?.order.id, secondId);
  });
});

describe('one order id for one key', () => {
  it('answers in_progress, confirming nothing, when the first attempt holds the key past the lock timeout', async () => {
    const held = gate();
    const confirming = gate();
    const id = orderIdForKey('store-slow');
    const first = createOrder(pool, { id, sku: 'widget', quantity: 1, idempotencyKey: 'store-slow' }, async () => {
      confirming.open();
      await held.promise;
      return { ok: true };
    });
    await confirming.promise;
    const started = Date.now();
    const second = await createOrder(pool, { id, sku: 'widget', quantity: 1, idempotencyKey: 'store-slow' }, () => {
      throw new Error('the second attempt must not confirm');
    }, 200);
    assert.deepEqual(second, { kind: 'in_progress' });
    assert.ok(Date.now() - started < 5_000, 'it waited about the lock timeout');
    held.open();
    assert.equal((await first).kind, 'created');
    assert.equal(await rowsWithId(id), 1);
    assert.equal(pool.totalCount - pool.idleCount, 0, 'no connection is left checked out');
  });

  it('treats a clash on the id (derived from the key) like a clash on the key: the stored order', async () => {
    const id = orderIdForKey('store-id');
    await createOrder(pool, { id, sku: 'widget', quantity: 1, idempotencyKey: 'store-id' }, ok);
    const again = await createOrder(pool, { id, sku: 'widget', quantity: 1, idempotencyKey: 'store-id' }, () => {
      throw new Error('must not confirm');
    });
    assert.equal(again.kind, 'exists');
    await assert.rejects(createOrder(pool, { id, sku: 'widget', quantity: 1, idempotencyKey: undefined }, ok), /exists already, but not with this idempotency key/);
  });
});

describe('auditOrders', () => {
  it('counts orders and their quantities per sku, from `since` when given', async () => {
    await pool.query('DELETE FROM orders');
    await createOrder(pool, { id: randomUUID(), sku: 'gizmo', quantity: 2, idempotencyKey: undefined }, ok);
    await createOrder(pool, { id: randomUUID(), sku: 'gizmo', quantity: 3, idempotencyKey: 'audit-1' }, ok);
    await createOrder(pool, { id: randomUUID(), sku: 'widget', quantity: 1, idempotencyKey: undefined }, ok);
    assert.deepEqual(await auditOrders(pool, undefined), { gizmo: { count: 2, quantity: 5 }, widget: { count: 1, quantity: 1 } });
    assert.deepEqual(await auditOrders(pool, new Date(Date.now() - 60_000)), { gizmo: { count: 2, quantity: 5 }, widget: { count: 1, quantity: 1 } });
    assert.deepEqual(await auditOrders(pool, new Date(Date.now() + 60_000)), {});
  });
});

describe('placing orders with a fake inventory', () => {
  /** What the fake inventory does with the next reservation. */
  let respond: Parameters<typeof fakeService>[0] = () => undefined;
  let inventory: FakeService;
  let deps: OrdersDeps;

  const placeWith = (inventoryUrl: string, timeoutMs = 2_000): OrdersDeps => ({
    store: pgOrderStore(pool),
    reserveStock: (request, requestId) => reserveStock(inventoryUrl, request, requestId, { timeoutMs, idempotencyKey: true }),
  });
  const place = (d: OrdersDeps, body: unknown, idempotencyKey?: string) => placeOrder(d, { body, idempotencyKey, requestId: 'it-1' });

  before(async () => {
    inventory = await fakeService((req, res) => respond(req, res));
    deps = placeWith(inventory.url);
  });
  after(() => inventory.close());
  beforeEach(() => {
    inventory.received.length = 0;
    respond = (req, res) => sendJson(res, 201, { ...(JSON.parse(req.body) as object), remaining: 10 });
  });

  it('stores the order under the id it reserved stock for, derived from the key, and replays it for the same key', async () => {
    const reply = await place(deps, { sku: 'widget', quantity: 2 }, 'place-1');
    assert.equal(reply.status, 201);
    const id = (reply.body as { id: string }).id;
    assert.equal(id, orderIdForKey('place-1'));
    assert.deepEqual(JSON.parse(inventory.received[0]?.body ?? '{}'), { sku: 'widget', quantity: 2, orderId: id });
    assert.equal(inventory.received[0]?.headers['x-request-id'], 'it-1');
    assert.equal(inventory.received[0]?.headers['idempotency-key'], id, 'so that a mesh proxy may retry it');
    assert.equal(await rowsWithId(id), 1);

    const again = await place(deps, { sku: 'widget', quantity: 2 }, 'place-1');
    assert.deepEqual(again.body, reply.body);
    assert.equal(again.headers?.['idempotent-replayed'], 'true');
    assert.equal(inventory.received.length, 1, 'stock is reserved once');
    await assert.rejects(place(deps, { sku: 'widget', quantity: 3 }, 'place-1'), (error: unknown) => error instanceof HttpError && error.status === 422);
  });

  // The last column: how many times orders asks (a lost answer is asked again, up to 3 times).
  const refusals: [string, Parameters<typeof fakeService>[0], number, string, number][] = [
    ['out of stock (409)', (_req, res) => sendJson(res, 409, { error: 'out_of_stock', available: 1 }), 409, 'out_of_stock', 1],
    ['an unknown sku (404)', (_req, res) => sendJson(res, 404, { error: 'unknown_sku' }), 422, 'unknown_sku', 1],
    ['failing (500)', (_req, res) => sendJson(res, 500, { error: 'internal' }), 502, 'inventory_error', 1],
    ['too slow', () => undefined, 504, 'inventory_timeout', 3],
  ];
  for (const [what, inventoryDoes, status, code, asked] of refusals) {
    it(`rolls the order back when the inventory is ${what}: ${status} ${code}, no row, key free`, async () => {
      respond = inventoryDoes;
      const key = `place-${code}`;
      const d = code === 'inventory_timeout' ? placeWith(inventory.url, 200) : deps;
      await assert.rejects(place(d, { sku: 'gizmo', quantity: 2 }, key), (error: unknown) => {
        assert.ok(error instanceof HttpError, String(error));
        assert.equal(error.status, status);
        assert.equal(error.code, code);
        return true;
      });
      assert.equal(inventory.received.length, asked);
      assert.equal(await rowsWithId(orderIdForKey(key)), 0, 'nothing is stored for a refused order');
      assert.equal(await findOrderByKey(pool, key), undefined);
    });
  }

  it('rolls the order back when the inventory is unreachable: 502 inventory_unreachable', async () => {
    const d = placeWith(await unusedUrl());
    await assert.rejects(place(d, { sku: 'widget', quantity: 1 }, 'place-down'), (error: unknown) => error instanceof HttpError && error.code === 'inventory_unreachable');
    assert.equal(await rowsWithId(orderIdForKey('place-down')), 0);
  });

  it('asks again under the same order id when an answer is lost, and stores the order once', async () => {
    let calls = 0;
    respond = (req, res) => {
      // The first answer is lost: the connection is reset after the request arrived.
      if (++calls === 1) res.socket?.destroy();
      else sendJson(res, 200, { ...(JSON.parse(req.body) as object), remaining: 10 });
    };
    const reply = await place(deps, { sku: 'widget', quantity: 1 }, 'place-lost');
    assert.equal(reply.status, 201);
    const id = orderIdForKey('place-lost');
    assert.deepEqual(inventory.received.map((r) => (JSON.parse(r.body) as { orderId: string }).orderId), [id, id]);
    assert.equal(await rowsWithId(id), 1);
  });

  it('takes stock once and stores one order when the same key arrives five times at once', async () => {
    respond = (req, res) => {
      // Slow enough that the other requests arrive while the first holds its row.
      setTimeout(() => sendJson(res, 201, { ...(JSON.parse(req.body) as object), remaining: 10 }), 200);
    };
    const replies = await Promise.all(Array.from({ length: 5 }, () => place(deps, { sku: 'gadget', quantity: 1 }, 'place-burst')));
    const ids = new Set(replies.map((r) => (r.body as { id: string }).id));
    assert.equal(ids.size, 1, 'every request gets the same order');
    assert.equal(inventory.received.length, 1, 'stock is reserved once');
    assert.equal(replies.filter((r) => r.headers?.['idempotent-replayed'] === 'true').length, 4);
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM orders WHERE idempotency_key = 'place-burst'");
    assert.equal(rows[0]?.n, 1);
  });
});
