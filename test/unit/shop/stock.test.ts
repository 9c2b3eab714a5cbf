import { describe, expect, it } from 'vitest';
import { Inventory, parseReservationRequest, parseStock } from '../../../examples/shop/inventory/src/stock.js';

describe('parseStock', () => {
  it('reads sku=quantity pairs, ignoring spaces and empty entries', () => {
    expect([...parseStock(' widget=100, gadget = 50 ,,gizmo=0,')]).toEqual([
      ['widget', 100],
      ['gadget', 50],
      ['gizmo', 0],
    ]);
  });

  it('reads an empty setting as no stock', () => {
    expect(parseStock('').size).toBe(0);
    expect(parseStock(' , ').size).toBe(0);
  });

  it.each([
    ['widget', /"widget": expected sku=quantity/],
    ['=5', /"=5": expected sku=quantity/],
    ['wid get=5', /"wid get=5": expected sku=quantity/],
    ['widget=', /"widget=": the quantity must be a whole number/],
    ['widget=-1', /"widget=-1": the quantity must be a whole number/],
    ['widget=1.5', /"widget=1.5": the quantity must be a whole number/],
    ['widget=1e3', /"widget=1e3": the quantity must be a whole number/],
    ['widget=99999999999999999999', /the quantity must be a whole number/],
    ['widget=1,widget=2', /"widget=2": widget is listed twice/],
  ])('rejects %s, naming the entry', (text, message) => {
    expect(() => parseStock(text)).toThrow(message);
  });
});

describe('parseReservationRequest', () => {
  it('accepts sku, quantity and orderId', () => {
    expect(parseReservationRequest({ sku: 'widget', quantity: 2, orderId: 'o-1' })).toEqual({
      ok: true,
      value: { sku: 'widget', quantity: 2, orderId: 'o-1' },
    });
  });

  it('lists every problem', () => {
    expect(parseReservationRequest({ sku: '', quantity: 0 })).toEqual({
      ok: false,
      errors: [
        "sku: must be a string of 1-64 letters, digits, '.', '_' or '-'",
        'quantity: must be a whole number from 1 to 1000',
        'orderId: must be a string of 1-128 characters',
      ],
    });
  });

  it.each([null, [], 'widget', 3])('rejects a body that is not an object: %j', (body) => {
    expect(parseReservationRequest(body)).toEqual({ ok: false, errors: ['body: must be a JSON object'] });
  });
});

describe('Inventory', () => {
  const stock = (): Inventory => new Inventory(new Map([['widget', 5]]));

  it('takes stock for a reservation and reports what is left', () => {
    const inventory = stock();
    expect(inventory.reserve({ sku: 'widget', quantity: 3, orderId: 'a' })).toEqual({
      kind: 'reserved',
      reservation: { sku: 'widget', quantity: 3, orderId: 'a', remaining: 2 },
    });
    expect(inventory.available('widget')).toBe(2);
    expect(inventory.snapshot()).toEqual([{ sku: 'widget', available: 2 }]);
  });

  it('refuses more than is left, and takes nothing', () => {
    const inventory = stock();
    expect(inventory.reserve({ sku: 'widget', quantity: 6, orderId: 'a' })).toEqual({ kind: 'out_of_stock', available: 5 });
    expect(inventory.available('widget')).toBe(5);
  });

  it('refuses an unknown sku', () => {
    expect(stock().reserve({ sku: 'gadget', quantity: 1, orderId: 'a' })).toEqual({ kind: 'unknown_sku' });
  });

  it('takes stock once per order id when a request is repeated', () => {
    const inventory = stock();
    inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' });
    expect(inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' })).toMatchObject({ kind: 'replayed' });
    expect(inventory.available('widget')).toBe(3);
  });

  it('refuses a different reservation for an order that holds one', () => {
    const inventory = stock();
    inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' });
    expect(inventory.reserve({ sku: 'widget', quantity: 1, orderId: 'a' })).toMatchObject({ kind: 'conflict' });
    expect(inventory.available('widget')).toBe(3);
  });

  it('does not share stock with the map it was given', () => {
    const initial = new Map([['widget', 5]]);
    new Inventory(initial).reserve({ sku: 'widget', quantity: 5, orderId: 'a' });
    expect(initial.get('widget')).toBe(5);
  });
});
