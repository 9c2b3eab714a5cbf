/** How orders reads the inventory's answers to a reservation, against a fake inventory. */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpError } from '../../../shared/http.js';
import { fakeService, sendJson, unusedUrl, type FakeService } from '../../../shared/testing.js';
import { isRetryableReservationError, reserveStock } from '../../src/inventory-client.js';

describe('reserveStock', () => {
  /** What the fake inventory answers next. */
  let answer: (res: Parameters<Parameters<typeof fakeService>[0]>[1]) => void = () => undefined;
  let inventory: FakeService;
  const request = { sku: 'widget', quantity: 2, orderId: 'order-1' };

  before(async () => {
    inventory = await fakeService((_req, res) => answer(res));
  });
  after(() => inventory.close());

  it('posts the reservation with the request id, and reads 201 as reserved', async () => {
    answer = (res) => sendJson(res, 201, { ...request, remaining: 3 });
    inventory.received.length = 0;
    assert.deepEqual(await reserveStock(inventory.url, request, 'req-9'), { kind: 'reserved' });
    const [sent] = inventory.received;
    assert.equal(sent?.method, 'POST');
    assert.equal(sent?.url, '/reservations');
    assert.equal(sent?.headers['x-request-id'], 'req-9');
    assert.equal(sent?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(sent?.body ?? ''), request);
    assert.equal(sent?.headers['idempotency-key'], undefined, 'no key unless asked for');
  });

  it('sends the order id as Idempotency-Key when asked, so a proxy may retry the call', async () => {
    answer = (res) => sendJson(res, 201, { ...request, remaining: 3 });
    inventory.received.length = 0;
    await reserveStock(inventory.url, request, 'req-9', { idempotencyKey: true });
    assert.equal(inventory.received[0]?.headers['idempotency-key'], 'order-1');
  });

  it('reads 409 reservation_conflict as a conflict: the order id holds another reservation', async () => {
    answer = (res) => sendJson(res, 409, { error: 'reservation_conflict' });
    assert.deepEqual(await reserveStock(inventory.url, request, 'r'), { kind: 'conflict' });
  });

  it('reads 200 (a repeated reservation) as reserved', async () => {
    answer = (res) => sendJson(res, 200, { ...request, remaining: 3 });
    assert.deepEqual(await reserveStock(inventory.url, request, 'r'), { kind: 'reserved' });
  });

  it('reads 404 unknown_sku', async () => {
    answer = (res) => sendJson(res, 404, { error: 'unknown_sku' });
    assert.deepEqual(await reserveStock(inventory.url, request, 'r'), { kind: 'unknown_sku' });
  });

  it('reads 409 out_of_stock with what is left', async () => {
    answer = (res) => sendJson(res, 409, { error: 'out_of_stock', available: 1 });
    assert.deepEqual(await reserveStock(inventory.url, request, 'r'), { kind: 'out_of_stock', available: 1 });
  });

  const failures: [string, (res: Parameters<Parameters<typeof fakeService>[0]>[1]) => void][] = [
    ['a 409 about something else', (res) => sendJson(res, 409, { error: 'something_else' })],
    ['a 404 without a JSON body', (res) => res.writeHead(404).end('not here')],
    ['a 500', (res) => sendJson(res, 500, { error: 'internal' })],
    ['a 400', (res) => sendJson(res, 400, { error: 'invalid_request' })],
  ];
  for (const [what, respond] of failures) {
    it(`turns ${what} into 502 inventory_error`, async () => {
      answer = respond;
      await assert.rejects(reserveStock(inventory.url, request, 'r'), (error: unknown) => {
        assert.ok(error instanceof HttpError);
        assert.equal(error.status, 502);
        assert.equal(error.code, 'inventory_error');
        return true;
      });
    });
  }

  for (const status of [502, 503, 504]) {
    it(`turns a ${status} (from the inventory or a proxy, JSON or not) into a retryable 502 inventory_unavailable`, async () => {
      answer = (res) => res.writeHead(status, { 'content-type': 'text/plain' }).end('mesh: no upstream');
      await assert.rejects(reserveStock(inventory.url, request, 'r'), (error: unknown) => {
        assert.ok(error instanceof HttpError);
        assert.equal(error.status, 502);
        assert.equal(error.code, 'inventory_unavailable');
        assert.ok(isRetryableReservationError(error));
        return true;
      });
    });
  }

  it('calls lost answers and unavailability retryable, and nothing else', () => {
    for (const code of ['inventory_unreachable', 'inventory_timeout', 'inventory_unavailable']) {
      assert.ok(isRetryableReservationError(new HttpError(502, code, '')), code);
    }
    for (const code of ['inventory_error', 'out_of_stock']) {
      assert.ok(!isRetryableReservationError(new HttpError(502, code, '')), code);
    }
    assert.ok(!isRetryableReservationError(new Error('inventory_unreachable')));
  });

  it('turns a refused connection into 502 inventory_unreachable', async () => {
    await assert.rejects(
      reserveStock(await unusedUrl(), request, 'r'),
      (error: unknown) => error instanceof HttpError && error.status === 502 && error.code === 'inventory_unreachable',
    );
  });

  it('turns a slow inventory into 504 inventory_timeout', async () => {
    answer = () => undefined; // never answers
    await assert.rejects(
      reserveStock(inventory.url, request, 'r', { timeoutMs: 100 }),
      (error: unknown) => error instanceof HttpError && error.status === 504 && error.code === 'inventory_timeout',
    );
  });
});
