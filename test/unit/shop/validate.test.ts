import { describe, expect, it } from 'vitest';
import { parseIdempotencyKey, parseOrderRequest } from '../../../examples/shop/orders/src/validate.js';
import { isUuid, parseOnOff, parsePort } from '../../../examples/shop/shared/validate.js';

describe('parseOrderRequest', () => {
  it('accepts a sku and a quantity', () => {
    expect(parseOrderRequest({ sku: 'gadget-2.b_x', quantity: 1000 })).toEqual({
      ok: true,
      value: { sku: 'gadget-2.b_x', quantity: 1000 },
    });
  });

  it.each([
    [{ quantity: 1 }, "sku: must be a string of 1-64 letters, digits, '.', '_' or '-'"],
    [{ sku: 'widget' }, 'quantity: must be a whole number from 1 to 1000'],
    [{ sku: 'widget', quantity: 0 }, 'quantity: must be a whole number from 1 to 1000'],
    [{ sku: 'widget', quantity: 1001 }, 'quantity: must be a whole number from 1 to 1000'],
    [{ sku: 'widget', quantity: 1.5 }, 'quantity: must be a whole number from 1 to 1000'],
    [{ sku: 'widget', quantity: '2' }, 'quantity: must be a whole number from 1 to 1000'],
    [{ sku: '-widget', quantity: 1 }, "sku: must be a string of 1-64 letters, digits, '.', '_' or '-'"],
    [{ sku: 'w'.repeat(65), quantity: 1 }, "sku: must be a string of 1-64 letters, digits, '.', '_' or '-'"],
    [{ sku: 'widget', quantity: 1, price: 0 }, 'price: unknown field (allowed: sku, quantity)'],
  ])('rejects %j', (body, error) => {
    expect(parseOrderRequest(body)).toEqual({ ok: false, errors: [error] });
  });

  it('reports every problem at once', () => {
    const parsed = parseOrderRequest({ sku: 7, quantity: -1, note: 'x' });
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.errors).toHaveLength(3);
  });

  it.each([null, [], 'widget', 42])('rejects a body that is not an object: %j', (body) => {
    expect(parseOrderRequest(body)).toEqual({ ok: false, errors: ['body: must be a JSON object'] });
  });
});

describe('parseIdempotencyKey', () => {
  it('treats a missing header as no key', () => {
    expect(parseIdempotencyKey(undefined)).toEqual({ ok: true, value: undefined });
  });

  it('accepts 1-255 visible ASCII characters', () => {
    expect(parseIdempotencyKey('order-2024/07:abc')).toEqual({ ok: true, value: 'order-2024/07:abc' });
    expect(parseIdempotencyKey('k'.repeat(255))).toMatchObject({ ok: true });
  });

  it.each([[''], ['k'.repeat(256)], ['with space'], ['caf\u00e9'], [['a', 'b']]])('rejects %j', (header) => {
    expect(parseIdempotencyKey(header)).toMatchObject({ ok: false });
  });
});

describe('isUuid', () => {
  it('accepts canonical UUIDs only', () => {
    expect(isUuid('223acbf3-bd96-474b-a398-f646e15ae8f8')).toBe(true);
    expect(isUuid('223ACBF3-BD96-474B-A398-F646E15AE8F8')).toBe(true);
    expect(isUuid('223acbf3bd96474ba398f646e15ae8f8')).toBe(false);
    expect(isUuid("1' OR '1'='1")).toBe(false);
  });
});

describe('parsePort', () => {
  it('uses the fallback when unset or blank', () => {
    expect(parsePort(undefined, 3000)).toBe(3000);
    expect(parsePort(' ', 3000)).toBe(3000);
  });

  it('reads a port', () => {
    expect(parsePort('8080', 3000)).toBe(8080);
  });

  it.each(['0', '65536', 'http', '80.5'])('rejects %s', (text) => {
    expect(() => parsePort(text, 3000)).toThrow(/PORT must be a whole number from 1 to 65535/);
  });
});

describe('parseOnOff', () => {
  it('reads on and off in any case, and the fallback when unset or empty', () => {
    expect(parseOnOff('SHOP_IDEMPOTENCY', undefined, true)).toBe(true);
    expect(parseOnOff('SHOP_IDEMPOTENCY', ' ', false)).toBe(false);
    expect(parseOnOff('SHOP_IDEMPOTENCY', 'OFF', true)).toBe(false);
    expect(parseOnOff('SHOP_IDEMPOTENCY', 'on', false)).toBe(true);
  });

  it.each(['yes', 'false', '0'])('rejects %s, naming the setting', (text) => {
    expect(() => parseOnOff('SHOP_IDEMPOTENCY', text, true)).toThrow(`SHOP_IDEMPOTENCY must be "on" or "off", got "${text}"`);
  });
});
