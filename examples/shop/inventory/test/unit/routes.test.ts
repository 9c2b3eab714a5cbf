/** The inventory's HTTP API: stock queries and reservations, with their status codes. */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHttpServer } from '../../../shared/http.js';
import { call, close, listen, postJson } from '../../../shared/testing.js';
import { inventoryRoutes } from '../../src/routes.js';
import { Inventory, parseStock } from '../../src/stock.js';

describe('inventory API', () => {
  const server = createHttpServer({
    name: 'inventory',
    routes: inventoryRoutes(new Inventory(parseStock('widget=10,gizmo=1')), { startedAt: new Date('2026-01-02T03:04:05Z'), idempotency: true }),
    log: () => undefined,
  });
  let url = '';
  before(async () => {
    url = await listen(server);
  });
  after(() => close(server));

  it('answers its health check', async () => {
    assert.deepEqual((await call(`${url}/health`)).body, { status: 'ok' });
  });

  it('lists the stock', async () => {
    const answer = await call(`${url}/stock`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, [
      { sku: 'gizmo', available: 1 },
      { sku: 'widget', available: 10 },
    ]);
  });

  it('answers the stock of one sku, or 404 unknown_sku', async () => {
    assert.deepEqual((await call(`${url}/stock/widget`)).body, { sku: 'widget', available: 10 });
    const unknown = await call(`${url}/stock/sprocket`);
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as { error?: unknown }).error, 'unknown_sku');
  });

  it('reserves with 201, answers a repeat with 200 and takes stock once', async () => {
    const request = { sku: 'widget', quantity: 4, orderId: 'order-1' };
    const first = await postJson(`${url}/reservations`, request);
    assert.equal(first.status, 201);
    assert.deepEqual(first.body, { ...request, remaining: 6 });
    const again = await postJson(`${url}/reservations`, request);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { ...request, remaining: 6 });
    assert.deepEqual((await call(`${url}/stock/widget`)).body, { sku: 'widget', available: 6 });
  });

  it('answers 409 reservation_conflict when the order already holds a different reservation', async () => {
    const answer = await postJson(`${url}/reservations`, { sku: 'widget', quantity: 1, orderId: 'order-1' });
    assert.equal(answer.status, 409);
    assert.deepEqual(answer.body, {
      error: 'reservation_conflict',
      message: 'order order-1 already holds a different reservation',
      reservation: { sku: 'widget', quantity: 4, orderId: 'order-1', remaining: 6 },
    });
  });

  it('answers 409 out_of_stock with what is left', async () => {
    const answer = await postJson(`${url}/reservations`, { sku: 'gizmo', quantity: 2, orderId: 'order-2' });
    assert.equal(answer.status, 409);
    assert.deepEqual(answer.body, { error: 'out_of_stock', message: 'only 1 of gizmo left', available: 1 });
  });

  it('answers 404 unknown_sku for a reservation of an unknown sku', async () => {
    const answer = await postJson(`${url}/reservations`, { sku: 'sprocket', quantity: 1, orderId: 'order-3' });
    assert.equal(answer.status, 404);
    assert.equal((answer.body as { error?: unknown }).error, 'unknown_sku');
  });

  it('answers 400 with every problem for an invalid reservation', async () => {
    const answer = await postJson(`${url}/reservations`, { sku: 'widget', quantity: 0 });
    assert.equal(answer.status, 400);
    assert.deepEqual(answer.body, {
      error: 'invalid_request',
      message: 'the reservation is not valid',
      details: ['quantity: must be a whole number from 1 to 1000', 'orderId: must be a string of 1-128 characters'],
    });
  });

  it('answers 400 invalid_json for a malformed body', async () => {
    const answer = await postJson(`${url}/reservations`, '{"sku":');
    assert.equal(answer.status, 400);
    assert.equal((answer.body as { error?: unknown }).error, 'invalid_json');
  });

  it('answers GET /audit with when it started and, per sku, its stock and reservations', async () => {
    const answer = await call(`${url}/audit`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      startedAt: '2026-01-02T03:04:05.000Z',
      idempotency: true,
      skus: {
        gizmo: { initial: 1, available: 1, reserved: 0, reservations: 0 },
        widget: { initial: 10, available: 6, reserved: 4, reservations: 1 },
      },
    });
  });
});
