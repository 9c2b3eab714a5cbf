/** What orders accepts: the body of POST /orders and the Idempotency-Key header. */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIdempotencyKey, parseOrderRequest } from '../../src/validate.js';

const SKU_ERROR = "sku: must be a string of 1-64 letters, digits, '.', '_' or '-'";
const QUANTITY_ERROR = 'quantity: must be a whole number from 1 to 1000';

describe('parseOrderRequest', () => {
  it('accepts a sku and a quantity, at the limits', () => {
    assert.deepEqual(parseOrderRequest({ sku: 'gadget-2.b_x', quantity: 1000 }), { ok: true, value: { sku: 'gadget-2.b_x', quantity: 1000 } });
    assert.deepEqual(parseOrderRequest({ sku: 'w'.repeat(64), quantity: 1 }), { ok: true, value: { sku: 'w'.repeat(64), quantity: 1 } });
  });

  const bad: [unknown, string][] = [
    [{ quantity: 1 }, SKU_ERROR],
    [{ sku: 'widget' }, QUANTITY_ERROR],
    [{ sku: 'widget', quantity: 0 }, QUANTITY_ERROR],
    [{ sku: 'widget', quantity: 1001 }, QUANTITY_ERROR],
    [{ sku: 'widget', quantity: 1.5 }, QUANTITY_ERROR],
    [{ sku: 'widget', quantity: '2' }, QUANTITY_ERROR],
    [{ sku: '-widget', quantity: 1 }, SKU_ERROR],
    [{ sku: 'w'.repeat(65), quantity: 1 }, SKU_ERROR],
    [{ sku: 'widget', quantity: 1, price: 0 }, 'price: unknown field (allowed: sku, quantity)'],
  ];
  for (const [body, error] of bad) {
    it(`rejects ${JSON.stringify(body).slice(0, 60)}`, () => {
      assert.deepEqual(parseOrderRequest(body), { ok: false, errors: [error] });
    });
  }

  it('reports every problem at once', () => {
    assert.deepEqual(parseOrderRequest({ sku: 7, quantity: -1, note: 'x' }), {
      ok: false,
      errors: [SKU_ERROR, QUANTITY_ERROR, 'note: unknown field (allowed: sku, quantity)'],
    });
  });

  for (const body of [null, [], 'widget', 42, undefined]) {
    it(`rejects a body that is not an object: ${String(JSON.stringify(body))}`, () => {
      assert.deepEqual(parseOrderRequest(body), { ok: false, errors: ['body: must be a JSON object'] });
    });
  }
});

describe('parseIdempotencyKey', () => {
  it('accepts no header', () => {
    assert.deepEqual(parseIdempotencyKey(undefined), { ok: true, value: undefined });
  });

  it('accepts 1-255 visible ASCII characters', () => {
    assert.deepEqual(parseIdempotencyKey('cart-42'), { ok: true, value: 'cart-42' });
    assert.deepEqual(parseIdempotencyKey('!~'.repeat(127) + 'x'), { ok: true, value: '!~'.repeat(127) + 'x' });
  });

  const bad: [string, string | string[]][] = [
    ['an empty key', ''],
    ['a key with a space', 'cart 42'],
    ['a key over 255 characters', 'k'.repeat(256)],
    ['a key with non-ASCII characters', 'panier-é'],
    ['a key given twice', ['a', 'b']],
  ];
  for (const [what, header] of bad) {
    it(`refuses ${what}`, () => {
      assert.deepEqual(parseIdempotencyKey(header), {
        ok: false,
        errors: ['Idempotency-Key: must be given once, as 1-255 visible ASCII characters'],
      });
    });
  }
});
