/**
 * The shop's consistency check, `GET /audit` on the gateway: what orders stored against what the
 * inventory reserved, per SKU. Every order is stored once and the stock is exact when, for every
 * SKU, the quantity of the stored orders is the quantity the inventory reserved, and what is
 * available is the initial stock less that. Chaos experiments probe it before and after a fault.
 */
import { HttpError } from '../../shared/http.js';
import { isRecord } from '../../shared/validate.js';

/** Orders' `GET /audit`: stored orders per SKU (created since `since`). */
export interface OrdersAudit {
  since: string | null;
  skus: Record<string, { count: number; quantity: number }>;
}

/** The inventory's `GET /audit`: its stock and reservations per SKU since it started. */
export interface InventoryAudit {
  startedAt: string;
  idempotency: boolean;
  skus: Record<string, { initial: number; available: number; reserved: number; reservations: number }>;
}

/** One SKU, seen from both sides. */
export interface SkuReport {
  /** Orders stored, and their quantities added up. */
  orders: number;
  ordered: number;
  /** Reservations the inventory made, and what they took. */
  reservations: number;
  reserved: number;
  initial: number;
  available: number;
}

/** The gateway's `GET /audit`. */
export interface AuditReport {
  consistent: boolean;
  /** Orders are counted from here: the inventory's start (its stock is in memory). */
  since: string;
  skus: Record<string, SkuReport>;
  /** One sentence per broken rule; empty when consistent. */
  problems: string[];
}

/** Judges both sides: consistent when, for every SKU, ordered == reserved and available == initial − reserved. */
export function judgeAudit(orders: OrdersAudit, inventory: InventoryAudit): AuditReport {
  const skus: Record<string, SkuReport> = {};
  const problems: string[] = [];
  const names = [...new Set([...Object.keys(orders.skus), ...Object.keys(inventory.skus)])].sort();
  for (const sku of names) {
    const stored = orders.skus[sku] ?? { count: 0, quantity: 0 };
    const stock = inventory.skus[sku];
    if (stock === undefined) {
      problems.push(`${sku}: ${stored.count} orders stored (quantity ${stored.quantity}), but the inventory keeps no stock of it`);
      skus[sku] = { orders: stored.count, ordered: stored.quantity, reservations: 0, reserved: 0, initial: 0, available: 0 };
      continue;
    }
    skus[sku] = { orders: stored.count, ordered: stored.quantity, reservations: stock.reservations, reserved: stock.reserved, initial: stock.initial, available: stock.available };
    if (stored.quantity !== stock.reserved) {
      problems.push(`${sku}: orders stored hold ${stored.quantity} (${stored.count} orders), the inventory reserved ${stock.reserved} (${stock.reservations} reservations)`);
    }
    if (stock.available !== stock.initial - stock.reserved) {
      problems.push(`${sku}: ${stock.available} available, but ${stock.initial} initial − ${stock.reserved} reserved = ${stock.initial - stock.reserved}`);
    }
  }
  return { consistent: problems.length === 0, since: inventory.startedAt, skus, problems };
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Checks orders' answer; a 502 upstream_invalid when it is not what orders sends. */
export function parseOrdersAudit(body: unknown): OrdersAudit {
  const skus = isRecord(body) && isRecord(body['skus']) ? body['skus'] : undefined;
  const since = isRecord(body) ? body['since'] : undefined;
  if (skus === undefined || !(since === null || typeof since === 'string')) throw invalid('orders');
  const out: OrdersAudit['skus'] = {};
  for (const [sku, value] of Object.entries(skus)) {
    if (!isRecord(value) || !isCount(value['count']) || !isCount(value['quantity'])) throw invalid('orders');
    out[sku] = { count: value['count'], quantity: value['quantity'] };
  }
  return { since, skus: out };
}

/** Checks the inventory's answer; a 502 upstream_invalid when it is not what the inventory sends. */
export function parseInventoryAudit(body: unknown): InventoryAudit {
  if (!isRecord(body) || !isRecord(body['skus']) || typeof body['startedAt'] !== 'string' || typeof body['idempotency'] !== 'boolean') throw invalid('inventory');
  const out: InventoryAudit['skus'] = {};
  for (const [sku, value] of Object.entries(body['skus'])) {
    if (!isRecord(value)) throw invalid('inventory');
    const { initial, available, reserved, reservations } = value;
    if (!isCount(initial) || !isCount(available) || !isCount(reserved) || !isCount(reservations)) throw invalid('inventory');
    out[sku] = { initial, available, reserved, reservations };
  }
  return { startedAt: body['startedAt'], idempotency: body['idempotency'], skus: out };
}

function invalid(service: string): HttpError {
  return new HttpError(502, 'upstream_invalid', `${service} answered GET /audit with an unexpected body`);
}
