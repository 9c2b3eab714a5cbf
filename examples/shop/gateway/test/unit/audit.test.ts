/**
 * The shop's consistency check: the rule (per sku, what orders stored is what the inventory
 * reserved, and what is left is the initial stock less that), and `GET /audit` asking the
 * inventory, then orders for the orders placed since the inventory started.
 */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError, createHttpServer } from '../../../shared/http.js';
import { call, close, fakeService, listen, sendJson } from '../../../shared/testing.js';
import { judgeAudit, parseInventoryAudit, parseOrdersAudit, type InventoryAudit, type OrdersAudit } from '../../src/audit.js';
import { gatewayRoutes } from '../../src/routes.js';

const STARTED = '2026-01-02T03:04:05.000Z';
const inventoryOf = (skus: InventoryAudit['skus']): InventoryAudit => ({ startedAt: STARTED, idempotency: true, skus });
const ordersOf = (skus: OrdersAudit['skus']): OrdersAudit => ({ since: STARTED, skus });

describe('judgeAudit', () => {
  it('is consistent when every sku’s orders hold what the inventory reserved, and the stock adds up', () => {
    const report = judgeAudit(
      ordersOf({ widget: { count: 280, quantity: 290 } }),
      inventoryOf({ widget: { initial: 1000, available: 710, reserved: 290, reservations: 280 }, gizmo: { initial: 5, available: 5, reserved: 0, reservations: 0 } }),
    );
    assert.deepEqual(report, {
      consistent: true,
      since: STARTED,
      skus: {
        gizmo: { orders: 0, ordered: 0, reservations: 0, reserved: 0, initial: 5, available: 5 },
        widget: { orders: 280, ordered: 290, reservations: 280, reserved: 290, initial: 1000, available: 710 },
      },
      problems: [],
    });
  });

  it('is not when stock was reserved twice for an order (a duplicate taken twice)', () => {
    const report = judgeAudit(ordersOf({ widget: { count: 3, quantity: 3 } }), inventoryOf({ widget: { initial: 10, available: 6, reserved: 4, reservations: 4 } }));
    assert.equal(report.consistent, false);
    assert.deepEqual(report.problems, ['widget: orders stored hold 3 (3 orders), the inventory reserved 4 (4 reservations)']);
  });

  it('is not when an order was stored without its stock, or stock taken for no order', () => {
    assert.equal(judgeAudit(ordersOf({ widget: { count: 2, quantity: 2 } }), inventoryOf({ widget: { initial: 10, available: 9, reserved: 1, reservations: 1 } })).consistent, false);
    assert.equal(judgeAudit(ordersOf({}), inventoryOf({ widget: { initial: 10, available: 9, reserved: 1, reservations: 1 } })).consistent, false);
  });

  it('is not when what is left is not the initial stock less what was reserved', () => {
    const report = judgeAudit(ordersOf({ widget: { count: 1, quantity: 1 } }), inventoryOf({ widget: { initial: 10, available: 8, reserved: 1, reservations: 1 } }));
    assert.deepEqual(report.problems, ['widget: 8 available, but 10 initial − 1 reserved = 9']);
  });

  it('is not when orders hold a sku the inventory does not keep', () => {
    const report = judgeAudit(ordersOf({ sprocket: { count: 1, quantity: 2 } }), inventoryOf({}));
    assert.deepEqual(report.problems, ['sprocket: 1 orders stored (quantity 2), but the inventory keeps no stock of it']);
    assert.equal(report.consistent, false);
  });

  it('refuses answers that are not what the services send (502 upstream_invalid)', () => {
    for (const body of [null, {}, { since: 1, skus: {} }, { since: null, skus: { widget: { count: -1, quantity: 0 } } }]) {
      assert.throws(() => parseOrdersAudit(body), (error: unknown) => error instanceof HttpError && error.status === 502 && error.code === 'upstream_invalid', JSON.stringify(body));
    }
    for (const body of [[], { startedAt: STARTED, skus: {} }, { startedAt: STARTED, idempotency: true, skus: { widget: { initial: 1 } } }]) {
      assert.throws(() => parseInventoryAudit(body), (error: unknown) => error instanceof HttpError && error.code === 'upstream_invalid', JSON.stringify(body));
    }
  });
});

describe('GET /audit on the gateway', () => {
  it('asks the inventory, then orders for the orders since the inventory started, and judges', async () => {
    let reserved = 3;
    const inventory = await fakeService((_req, res) =>
      sendJson(res, 200, { startedAt: STARTED, idempotency: true, skus: { widget: { initial: 10, available: 10 - reserved, reserved, reservations: reserved } } }),
    );
    const orders = await fakeService((_req, res) => sendJson(res, 200, { since: STARTED, skus: { widget: { count: 3, quantity: 3 } } }));
    const server = createHttpServer({ name: 'gateway', routes: gatewayRoutes({ ordersUrl: orders.url, inventoryUrl: inventory.url }), log: () => undefined });
    const url = await listen(server);
    try {
      const good = await call(`${url}/audit`);
      assert.equal(good.status, 200);
      assert.equal((good.body as { consistent?: unknown }).consistent, true);
      assert.deepEqual(inventory.received.map((r) => `${r.method} ${r.url}`), ['GET /audit']);
      assert.deepEqual(orders.received.map((r) => `${r.method} ${r.url}`), [`GET /audit?since=${encodeURIComponent(STARTED)}`]);

      reserved = 4;
      const bad = await call(`${url}/audit`);
      assert.equal(bad.status, 200, 'an inconsistent shop is a finding, not an error');
      assert.equal((bad.body as { consistent?: unknown }).consistent, false);
      assert.equal((bad.body as { problems: unknown[] }).problems.length, 1);

      await orders.close();
      const down = await call(`${url}/audit`);
      assert.equal(down.status, 502);
    } finally {
      await close(server);
      await inventory.close();
      await orders.close();
    }
  });
});
