import { checkQuantity, checkSku, isRecord, SKU_PATTERN, type Parsed } from '../../shared/validate.js';

/**
 * Parses the STOCK setting, `widget=100,gadget=50`, into quantities by SKU.
 * Spaces around entries are ignored; an empty setting means no stock at all.
 * Throws an Error naming the first bad entry.
 */
export function parseStock(text: string): Map<string, number> {
  const stock = new Map<string, number>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const at = entry.indexOf('=');
    const sku = at < 0 ? entry : entry.slice(0, at).trim();
    const amount = at < 0 ? '' : entry.slice(at + 1).trim();
    if (at < 0 || !SKU_PATTERN.test(sku)) {
      throw new Error(`STOCK entry "${entry}": expected sku=quantity, with a sku of letters, digits, '.', '_' or '-'`);
    }
    if (!/^\d+$/.test(amount) || !Number.isSafeInteger(Number(amount))) {
      throw new Error(`STOCK entry "${entry}": the quantity must be a whole number`);
    }
    if (stock.has(sku)) throw new Error(`STOCK entry "${entry}": ${sku} is listed twice`);
    stock.set(sku, Number(amount));
  }
  return stock;
}

/** A request to set stock aside for one order. */
export interface ReservationRequest {
  sku: string;
  quantity: number;
  orderId: string;
}

/** Checks a `POST /reservations` body. */
export function parseReservationRequest(body: unknown): Parsed<ReservationRequest> {
  if (!isRecord(body)) return { ok: false, errors: ['body: must be a JSON object'] };
  const errors: string[] = [];
  const { sku, quantity, orderId } = body;
  const skuOk = checkSku(sku, errors);
  const quantityOk = checkQuantity(quantity, errors);
  const orderIdOk = typeof orderId === 'string' && orderId.length >= 1 && orderId.length <= 128;
  if (!orderIdOk) errors.push('orderId: must be a string of 1-128 characters');
  if (!skuOk || !quantityOk || !orderIdOk) return { ok: false, errors };
  return { ok: true, value: { sku, quantity, orderId } };
}

/** Stock set aside for one order. */
export interface Reservation extends ReservationRequest {
  /** What is left of the SKU after this reservation. */
  remaining: number;
}

/** The outcome of `Inventory.reserve`. */
export type ReserveOutcome =
  | { kind: 'reserved'; reservation: Reservation }
  /** The order already holds this reservation (a retried or duplicated request). */
  | { kind: 'replayed'; reservation: Reservation }
  | { kind: 'unknown_sku' }
  | { kind: 'out_of_stock'; available: number }
  /** The order already holds a different reservation. */
  | { kind: 'conflict'; reservation: Reservation };

/** What the inventory knows of one SKU, for `GET /audit`. */
export interface SkuAudit {
  /** The stock it started with. */
  initial: number;
  available: number;
  /** Quantity taken by reservations, in all. */
  reserved: number;
  /** Reservations that took stock. */
  reservations: number;
}

/** How an `Inventory` behaves. */
export interface InventoryOptions {
  /**
   * Whether a reservation is taken once per order id (the default). `false` is the broken variant
   * of the shop (SHOP_IDEMPOTENCY=off): every reservation takes stock, repeats included.
   */
  dedupe?: boolean;
}

/**
 * Stock held in memory. A reservation is keyed by its order id, so a request that is
 * retried or duplicated on the way takes stock once.
 */
export class Inventory {
  private readonly initial: ReadonlyMap<string, number>;
  private readonly stock: Map<string, number>;
  private readonly reservations = new Map<string, Reservation>();
  private readonly taken = new Map<string, { reserved: number; reservations: number }>();
  private readonly dedupe: boolean;

  constructor(initial: ReadonlyMap<string, number>, options: InventoryOptions = {}) {
    this.initial = new Map(initial);
    this.stock = new Map(initial);
    this.dedupe = options.dedupe ?? true;
  }

  /** The quantity left for a SKU, or undefined when the SKU is unknown. */
  available(sku: string): number | undefined {
    return this.stock.get(sku);
  }

  /** Every SKU and the quantity left, sorted by SKU. */
  snapshot(): { sku: string; available: number }[] {
    return [...this.stock].sort(([a], [b]) => a.localeCompare(b)).map(([sku, available]) => ({ sku, available }));
  }

  /** Every SKU with its initial stock, what is left, and what reservations took, sorted by SKU. */
  audit(): Record<string, SkuAudit> {
    const out: Record<string, SkuAudit> = {};
    for (const [sku, initial] of [...this.initial].sort(([a], [b]) => a.localeCompare(b))) {
      const taken = this.taken.get(sku) ?? { reserved: 0, reservations: 0 };
      out[sku] = { initial, available: this.stock.get(sku) ?? 0, ...taken };
    }
    return out;
  }

  /** Takes stock for an order, once per order id (unless built with `dedupe: false`). */
  reserve(request: ReservationRequest): ReserveOutcome {
    const previous = this.dedupe ? this.reservations.get(request.orderId) : undefined;
    if (previous !== undefined) {
      const same = previous.sku === request.sku && previous.quantity === request.quantity;
      return same ? { kind: 'replayed', reservation: previous } : { kind: 'conflict', reservation: previous };
    }
    const available = this.stock.get(request.sku);
    if (available === undefined) return { kind: 'unknown_sku' };
    if (available < request.quantity) return { kind: 'out_of_stock', available };
    const remaining = available - request.quantity;
    this.stock.set(request.sku, remaining);
    const taken = this.taken.get(request.sku) ?? { reserved: 0, reservations: 0 };
    this.taken.set(request.sku, { reserved: taken.reserved + request.quantity, reservations: taken.reservations + 1 });
    const reservation = { ...request, remaining };
    this.reservations.set(request.orderId, reservation);
    return { kind: 'reserved', reservation };
  }
}
