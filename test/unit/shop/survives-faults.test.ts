/**
 * The chaos experiment `survives-drops-and-duplicates` in miniature, in one process: the whole
 * shop (gateway, orders with an in-memory store, inventory) on port 0, with a small faulty proxy
 * in front of the inventory that resets 20% of the `POST /reservations` calls before they arrive
 * and delivers 20% twice. After a few hundred orders through the gateway, its `GET /audit` is
 * consistent — and with SHOP_IDEMPOTENCY=off it is not, so the audit is known to catch the bug.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { auditFromGateway, startShop, type Shop } from './shop-harness.js';

const ORDERS = 300;

describe('the shop under dropped and duplicated reservations', () => {
  let shop: Shop | undefined;
  afterEach(async () => {
    await shop?.stop();
    shop = undefined;
  });

  it('stores every order once and keeps the stock exact, with idempotency keys and retries', async () => {
    shop = await startShop({ idempotency: true, drop: 0.2, duplicate: 0.2, seed: 7 });
    const statuses = await shop.placeOrders(ORDERS);
    expect(statuses.get(201)).toBe(ORDERS);
    expect(shop.faults.dropped).toBeGreaterThan(20);
    expect(shop.faults.duplicated).toBeGreaterThan(20);
    const audit = await auditFromGateway(shop);
    expect(audit.problems).toEqual([]);
    expect(audit.consistent).toBe(true);
    expect(audit.skus['widget']).toMatchObject({ orders: ORDERS, ordered: ORDERS, reserved: ORDERS, available: 10_000 - ORDERS });
  }, 60_000);

  it('fails the same check with SHOP_IDEMPOTENCY=off: duplicates take stock twice', async () => {
    shop = await startShop({ idempotency: false, drop: 0.2, duplicate: 0.2, seed: 7 });
    await shop.placeOrders(ORDERS);
    const audit = await auditFromGateway(shop);
    expect(audit.consistent).toBe(false);
    const widget = audit.skus['widget'];
    expect(widget?.reserved).toBeGreaterThan(widget?.ordered ?? Infinity);
  }, 60_000);

  it('also survives answers lost after the stock was reserved (a downstream drop), which the broken variant does not', async () => {
    shop = await startShop({ idempotency: true, drop: 0.1, duplicate: 0.1, lose: 0.2, seed: 11 });
    expect((await shop.placeOrders(ORDERS)).get(201)).toBe(ORDERS);
    expect(shop.faults.lost).toBeGreaterThan(20);
    expect((await auditFromGateway(shop)).consistent).toBe(true);
    await shop.stop();

    shop = await startShop({ idempotency: false, drop: 0, duplicate: 0, lose: 0.2, seed: 11 });
    await shop.placeOrders(ORDERS);
    const audit = await auditFromGateway(shop);
    expect(audit.consistent).toBe(false);
    // Stock taken for orders that were rolled back when their answer was lost.
    expect(audit.skus['widget']?.ordered).toBeLessThan(audit.skus['widget']?.reserved ?? 0);
  }, 60_000);

  it('is consistent with no faults at all, in either mode (the check itself holds)', async () => {
    for (const idempotency of [true, false]) {
      shop = await startShop({ idempotency, drop: 0, duplicate: 0, seed: 1 });
      await shop.placeOrders(50);
      expect((await auditFromGateway(shop)).consistent).toBe(true);
      await shop.stop();
      shop = undefined;
    }
  }, 60_000);
});
