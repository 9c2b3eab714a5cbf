/**
 * An OrderStore in memory for the orders tests, with the PostgreSQL store's contract: an order is
 * kept only when `confirm` succeeds; keys and ids are unique; an attempt at an order whose key or
 * id another attempt is still placing waits for it (as on the row lock), and gives up with
 * `in_progress` after `lockTimeoutMs` (as lock_timeout does).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Confirmation, CreateOutcome, NewOrder, OrderStore, SkuOrders, StoredOrder } from '../../src/store.js';

/** createdAt of every order this store keeps. */
export const CREATED_AT = '2025-01-02T03:04:05.000Z';

/** OrderStore in memory; see the file's comment. */
export class MemoryStore implements OrderStore {
  readonly orders = new Map<string, StoredOrder>();
  /** Keys that `findOrderByKey` does not see yet: another request is still creating them. */
  readonly inFlight = new Set<string>();
  calls: string[] = [];
  down = false;
  /** How long `createOrder` waits for another attempt at the same order. */
  lockTimeoutMs = 2_000;
  /** Orders being placed, by `key:<key>` and `id:<id>`: settles when that attempt commits or rolls back. */
  private readonly placing = new Map<string, Promise<void>>();

  ping(): Promise<void> {
    return this.down ? Promise.reject(new Error('connection refused')) : Promise.resolve();
  }

  findOrder(id: string): Promise<StoredOrder | undefined> {
    this.calls.push(`findOrder ${id}`);
    return Promise.resolve(this.orders.get(id));
  }

  findOrderByKey(key: string): Promise<StoredOrder | undefined> {
    this.calls.push(`findOrderByKey ${key}`);
    if (this.inFlight.has(key)) return Promise.resolve(undefined);
    return Promise.resolve(this.byKey(key));
  }

  async createOrder<T>(order: NewOrder, confirm: () => Promise<Confirmation<T>>): Promise<CreateOutcome<T>> {
    this.calls.push(`createOrder ${order.id}`);
    const slots = [`id:${order.id}`, ...(order.idempotencyKey === undefined ? [] : [`key:${order.idempotencyKey}`])];
    for (;;) {
      const pending = slots.map((slot) => this.placing.get(slot)).find((p) => p !== undefined);
      if (pending === undefined) break;
      const settled = await Promise.race([pending.then(() => true), sleep(this.lockTimeoutMs).then(() => false)]);
      if (!settled) return { kind: 'in_progress' };
    }
    const existing = order.idempotencyKey === undefined ? undefined : this.byKey(order.idempotencyKey);
    if (existing !== undefined) return { kind: 'exists', stored: existing };
    if (this.orders.has(order.id)) throw new Error(`order ${order.id} exists already, but not with this idempotency key`);
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const slot of slots) this.placing.set(slot, held);
    try {
      const confirmed = await confirm();
      if (!confirmed.ok) return { kind: 'declined', reason: confirmed.reason };
      return { kind: 'created', order: this.add(order).order };
    } finally {
      for (const slot of slots) this.placing.delete(slot);
      release();
    }
  }

  audit(since: Date | undefined): Promise<Record<string, SkuOrders>> {
    const out: Record<string, SkuOrders> = {};
    for (const { order } of this.orders.values()) {
      if (since !== undefined && Date.parse(order.createdAt) < since.getTime()) continue;
      const sku = (out[order.sku] ??= { count: 0, quantity: 0 });
      sku.count++;
      sku.quantity += order.quantity;
    }
    return Promise.resolve(out);
  }

  /** Stores an order as if it had been placed. */
  add(order: NewOrder): StoredOrder {
    const stored: StoredOrder = {
      order: { id: order.id, sku: order.sku, quantity: order.quantity, status: 'confirmed', createdAt: CREATED_AT },
      idempotencyKey: order.idempotencyKey,
    };
    this.orders.set(order.id, stored);
    return stored;
  }

  private byKey(key: string): StoredOrder | undefined {
    return [...this.orders.values()].find((stored) => stored.idempotencyKey === key);
  }
}
