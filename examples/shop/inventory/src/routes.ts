import { HttpError, type Reply, type Route } from '../../shared/http.js';
import { parseReservationRequest, type Inventory } from './stock.js';

/** What the inventory's routes report about themselves in `GET /audit`. */
export interface InventoryInfo {
  /** When this inventory started: its stock is in memory, so it knows nothing from before. */
  startedAt: Date;
  /** Whether reservations are taken once per order id (SHOP_IDEMPOTENCY). */
  idempotency: boolean;
}

/** The inventory's routes over one in-memory `Inventory`. */
export function inventoryRoutes(inventory: Inventory, info: InventoryInfo = { startedAt: new Date(), idempotency: true }): Route[] {
  return [
    { method: 'GET', path: '/health', traced: false, handler: () => ({ status: 200, body: { status: 'ok' } }) },
    // For checks and experiments (the gateway's GET /audit), so untraced like the health check.
    {
      method: 'GET',
      path: '/audit',
      traced: false,
      handler: () => ({ status: 200, body: { startedAt: info.startedAt.toISOString(), idempotency: info.idempotency, skus: inventory.audit() } }),
    },
    { method: 'GET', path: '/stock', handler: () => ({ status: 200, body: inventory.snapshot() }) },
    {
      method: 'GET',
      path: '/stock/:sku',
      handler: ({ params }) => {
        const sku = params['sku'] ?? '';
        const available = inventory.available(sku);
        if (available === undefined) throw new HttpError(404, 'unknown_sku', `no stock is kept for ${sku}`);
        return { status: 200, body: { sku, available } };
      },
    },
    {
      method: 'POST',
      path: '/reservations',
      handler: async (req): Promise<Reply> => {
        const parsed = parseReservationRequest(await req.json());
        if (!parsed.ok) throw new HttpError(400, 'invalid_request', 'the reservation is not valid', { details: parsed.errors });
        const outcome = inventory.reserve(parsed.value);
        switch (outcome.kind) {
          case 'reserved':
            return { status: 201, body: outcome.reservation };
          case 'replayed':
            return { status: 200, body: outcome.reservation };
          case 'unknown_sku':
            throw new HttpError(404, 'unknown_sku', `no stock is kept for ${parsed.value.sku}`);
          case 'out_of_stock':
            throw new HttpError(409, 'out_of_stock', `only ${outcome.available} of ${parsed.value.sku} left`, {
              available: outcome.available,
            });
          case 'conflict':
            throw new HttpError(409, 'reservation_conflict', `order ${parsed.value.orderId} already holds a different reservation`, {
              reservation: outcome.reservation,
            });
        }
      },
    },
  ];
}
