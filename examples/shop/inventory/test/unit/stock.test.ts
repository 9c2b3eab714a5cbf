/** The inventory's stock: parsing STOCK, checking reservations, and taking stock once per order. */
/* eslint-disable @typescript-eslint/no-floating-promises -- node:test's describe() and it() return promises that the runner itself awaits */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Inventory, parseReservationRequest, parseStock } from '../../src/stock.js';

describe('parseStock', () => {
  it('reads sku=quantity pairs, ignoring spaces and empty entries', () => {
    assert.deepEqual(
      [...parseStock(' widget=100, gadget = 50 ,,gizmo=0,')],
      [
        ['widget', 100],
        ['gadget', 50],
        ['gizmo', 0],
      ],
    );
  });

  it('reads an empty setting as no stock', () => {
    assert.equal(parseStock('').size, 0);
    assert.equal(parseStock(' , ').size, 0);
  });

  const bad: [string, RegExp][] = [
    ['widget', /"widget": expected sku=quantity/],
    ['=5', /"=5": expected sku=quantity/],
    ['wid get=5', /"wid get=5": expected sku=quantity/],
    ['widget=', /"widget=": the quantity must be a whole number/],
    ['widget=-1', /"widget=-1": the quantity must be a whole number/],
    ['widget=1.5', /"widget=1.5": the quantity must be a whole number/],
    ['widget=99999999999999999999', /the quantity must be a whole number/],
    ['widget=1,widget=2', /"widget=2": widget is listed twice/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)}, naming the entry`, () => {
      assert.throws(() => parseStock(text), message);
    });
  }
});

describe('parseReservationRequest', () => {
  it('accepts sku, quantity and orderId', () => {
    assert.deepEqual(parseReservationRequest({ sku: 'widget', quantity: 2, orderId: 'o-1' }), {
      ok: true,
      value: { sku: 'widget', quantity: 2, orderId: 'o-1' },
    });
  });

  it('lists every problem at once', () => {
    assert.deepEqual(parseReservationRequest({ sku: '', quantity: 0, orderId: 'x'.repeat(129) }), {
      ok: false,
      errors: [
        "sku: must be a string of 1-64 letters, digits, '.', '_' or '-'",
        'quantity: must be a whole number from 1 to 1000',
        'orderId: must be a string of 1-128 characters',
      ],
    });
  });

  for (const body of [null, [], 'widget', 3]) {
    it(`rejects a body that is not an object: ${JSON.stringify(body)}`, () => {
      assert.deepEqual(parseReservationRequest(body), { ok: false, errors: ['body: must be a JSON object'] });
    });
  }
});

describe('Inventory', () => {
  const stock = (): Inventory =>
    new Inventory(
      new Map([
        ['widget', 5],
        ['gadget', 1],
      ]),
    );

  it('takes stock for a reservation and reports what is left', () => {
    const inventory = stock();
    assert.deepEqual(inventory.reserve({ sku: 'widget', quantity: 3, orderId: 'a' }), {
      kind: 'reserved',
      reservation: { sku: 'widget', quantity: 3, orderId: 'a', remaining: 2 },
    });
    assert.equal(inventory.available('widget'), 2);
  });

  it('can take the last item, and then refuses', () => {
    const inventory = stock();
    assert.equal(inventory.reserve({ sku: 'gadget', quantity: 1, orderId: 'a' }).kind, 'reserved');
    assert.deepEqual(inventory.reserve({ sku: 'gadget', quantity: 1, orderId: 'b' }), { kind: 'out_of_stock', available: 0 });
  });

  it('refuses more than is left, and takes nothing', () => {
    const inventory = stock();
    assert.deepEqual(inventory.reserve({ sku: 'widget', quantity: 6, orderId: 'a' }), { kind: 'out_of_stock', available: 5 });
    assert.equal(inventory.available('widget'), 5);
  });

  it('refuses an unknown sku', () => {
    assert.deepEqual(stock().reserve({ sku: 'gizmo', quantity: 1, orderId: 'a' }), { kind: 'unknown_sku' });
    assert.equal(stock().available('gizmo'), undefined);
  });

  it('takes stock once per order id when a reservation is repeated', () => {
    const inventory = stock();
    const first = inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' });
    const again = inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' });
    assert.equal(first.kind, 'reserved');
    assert.deepEqual(again, { kind: 'replayed', reservation: { sku: 'widget', quantity: 2, orderId: 'a', remaining: 3 } });
    assert.equal(inventory.available('widget'), 3);
  });

  it('refuses a different reservation for an order that holds one, and takes nothing', () => {
    const inventory = stock();
    inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' });
    for (const other of [
      { sku: 'widget', quantity: 1, orderId: 'a' },
      { sku: 'gadget', quantity: 2, orderId: 'a' },
    ]) {
      assert.deepEqual(inventory.reserve(other), {
        kind: 'conflict',
        reservation: { sku: 'widget', quantity: 2, orderId: 'a', remaining: 3 },
      });
    }
    assert.equal(inventory.available('widget'), 3);
    assert.equal(inventory.available('gadget'), 1);
  });

  it('does not remember a refused reservation: the order may try again once stock allows', () => {
    const inventory = stock();
    assert.equal(inventory.reserve({ sku: 'widget', quantity: 9, orderId: 'a' }).kind, 'out_of_stock');
    assert.equal(inventory.reserve({ sku: 'widget', quantity: 5, orderId: 'a' }).kind, 'reserved');
  });

  it('lists every sku sorted, and keeps its own copy of the initial stock', () => {
    const initial = new Map([
      ['widget', 5],
      ['gadget', 1],
    ]);
    const inventory = new Inventory(initial);
    inventory.reserve({ sku: 'widget', quantity: 1, orderId: 'a' });
    assert.deepEqual(inventory.snapshot(), [
      { sku: 'gadget', available: 1 },
      { sku: 'widget', available: 4 },
    ]);
    assert.equal(initial.get('widget'), 5);
  });

  it('audits each sku: initial stock, what is left, what reservations took and how many', () => {
    const inventory = stock();
    inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' });
    inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' }); // a repeat: taken once
    inventory.reserve({ sku: 'widget', quantity: 1, orderId: 'b' });
    inventory.reserve({ sku: 'gadget', quantity: 5, orderId: 'c' }); // refused: nothing taken
    assert.deepEqual(inventory.audit(), {
      gadget: { initial: 1, available: 1, reserved: 0, reservations: 0 },
      widget: { initial: 5, available: 2, reserved: 3, reservations: 2 },
    });
  });

  it('without dedupe (SHOP_IDEMPOTENCY=off), takes stock for every repeat of a reservation', () => {
    const inventory = new Inventory(new Map([['widget', 5]]), { dedupe: false });
    assert.equal(inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' }).kind, 'reserved');
    assert.equal(inventory.reserve({ sku: 'widget', quantity: 2, orderId: 'a' }).kind, 'reserved');
    assert.equal(inventory.reserve({ sku: 'widget', quantity: 1, orderId: 'a' }).kind, 'reserved', 'no conflict either');
    assert.equal(inventory.available('widget'), 0);
    assert.deepEqual(inventory.audit(), { widget: { initial: 5, available: 0, reserved: 5, reservations: 3 } });
  });
});
