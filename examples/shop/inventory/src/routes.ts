import { HttpError, type Reply, type Route } from '../../shared/http.js';
import { parseReservationRequest, type Inventory } from './stock.js';

/** The inventory's routes over one in-memory `Inventory`. */
export function inventoryRoutes(inventory: Inventory): Route[] {
  return [
    { method: 'GET', path: '/health', traced: false, handler: () => ({ status: 200, body: { status: 'ok' } }) },
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
