import { randomUUID } from 'node:crypto';
import { HttpError, type Reply, type Route } from '../../shared/http.js';
import { isUuid } from '../../shared/validate.js';
import type { ReservationResult } from './inventory-client.js';
import type { OrderStore, StoredOrder } from './store.js';
import { parseIdempotencyKey, parseOrderRequest, type OrderRequest } from './validate.js';

/** Asks the inventory to set stock aside for an order (`reserveStock` bound to its URL). */
export type ReserveStock = (request: { sku: string; quantity: number; orderId: string }, requestId: string) => Promise<ReservationResult>;

/** What the orders service works with: its store, the inventory, and where order ids come from. */
export interface OrdersDeps {
  store: OrderStore;
  reserveStock: ReserveStock;
  /** New order ids; `randomUUID` by default. */
  newId?: () => string;
}

/** A `POST /orders` as the service sees it. */
export interface PlaceOrderInput {
  body: unknown;
  /** The Idempotency-Key header, as Node gives it. */
  idempotencyKey: string | string[] | undefined;
  requestId: string;
}

/** The answer to a request that repeats an idempotency key: the original order, if it matches. */
export function replay(stored: StoredOrder, request: OrderRequest): Reply {
  if (stored.order.sku !== request.sku || stored.order.quantity !== request.quantity) {
    throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for a different order', {
      orderId: stored.order.id,
    });
  }
  return { status: 201, body: stored.order, headers: { location: `/orders/${stored.order.id}`, 'idempotent-replayed': 'true' } };
}

/**
 * Places an order: validates it; with a known idempotency key answers with that order;
 * otherwise stores it, committed only once the inventory has reserved the stock.
 * Problems become HttpErrors (400, 409, 422; 502/504 from the inventory).
 */
export async function placeOrder(deps: OrdersDeps, input: PlaceOrderInput): Promise<Reply> {
  const parsed = parseOrderRequest(input.body);
  if (!parsed.ok) throw new HttpError(400, 'invalid_request', 'the order is not valid', { details: parsed.errors });
  const key = parseIdempotencyKey(input.idempotencyKey);
  if (!key.ok) throw new HttpError(400, 'invalid_request', 'the Idempotency-Key header is not valid', { details: key.errors });
  const request = parsed.value;

  if (key.value !== undefined) {
    const stored = await deps.store.findOrderByKey(key.value);
    if (stored !== undefined) return replay(stored, request);
  }

  const id = (deps.newId ?? randomUUID)();
  const outcome = await deps.store.createOrder<Exclude<ReservationResult, { kind: 'reserved' }>>(
    { id, ...request, idempotencyKey: key.value },
    async () => {
      const reservation = await deps.reserveStock({ ...request, orderId: id }, input.requestId);
      return reservation.kind === 'reserved' ? { ok: true } : { ok: false, reason: reservation };
    },
  );
  switch (outcome.kind) {
    case 'created':
      return { status: 201, body: outcome.order, headers: { location: `/orders/${outcome.order.id}` } };
    case 'exists':
      return replay(outcome.stored, request);
    case 'declined':
      if (outcome.reason.kind === 'unknown_sku') {
        throw new HttpError(422, 'unknown_sku', `the shop does not sell ${request.sku}`);
      }
      throw new HttpError(409, 'out_of_stock', `only ${outcome.reason.available} of ${request.sku} left`, {
        available: outcome.reason.available,
      });
  }
}

/** One order by id; 404 for an unknown id, or one that is not a UUID (the store is not asked). */
export async function getOrder(store: OrderStore, id: string): Promise<Reply> {
  const stored = isUuid(id) ? await store.findOrder(id) : undefined;
  if (stored === undefined) throw new HttpError(404, 'order_not_found', `no order ${id}`);
  return { status: 200, body: stored.order };
}

/** The orders service's routes. */
export function ordersRoutes(deps: OrdersDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      traced: false,
      handler: async () => {
        try {
          await deps.store.ping();
        } catch (error) {
          throw new HttpError(503, 'db_unavailable', `the database does not answer: ${String(error)}`);
        }
        return { status: 200, body: { status: 'ok', db: 'ok' } };
      },
    },
    {
      method: 'POST',
      path: '/orders',
      handler: async (req) => placeOrder(deps, { body: await req.json(), idempotencyKey: req.headers['idempotency-key'], requestId: req.requestId }),
    },
    { method: 'GET', path: '/orders/:id', handler: ({ params }) => getOrder(deps.store, params['id'] ?? '') },
  ];
}
