import { randomUUID } from 'node:crypto';
import { HttpError, type Reply, type Route } from '../../shared/http.js';
import { withRetries, type RetryPolicy } from '../../shared/retry.js';
import { isUuid } from '../../shared/validate.js';
import { isRetryableReservationError, type ReservationResult } from './inventory-client.js';
import { orderIdForKey } from './order-id.js';
import type { OrderStore, StoredOrder } from './store.js';
import { parseIdempotencyKey, parseOrderRequest, type OrderRequest } from './validate.js';

/**
 * Asks the inventory to set stock aside for an order (`reserveStock` bound to its URL), waiting
 * at most `timeoutMs` when given (what is left of the retries' time).
 */
export type ReserveStock = (request: { sku: string; quantity: number; orderId: string }, requestId: string, timeoutMs?: number) => Promise<ReservationResult>;

/**
 * Retries of a reservation whose answer was lost or that the inventory could not take: three
 * attempts, 50 ms then 100 ms (less jitter) between them, all within 8 s (no attempt waits past
 * it) so that the gateway (10 s per attempt) hears back from orders before it gives up on it.
 */
export const RESERVE_RETRY: RetryPolicy = { attempts: 3, backoffMs: 50, totalMs: 8_000 };

/** What the orders service works with: its store, the inventory, and where order ids come from. */
export interface OrdersDeps {
  store: OrderStore;
  reserveStock: ReserveStock;
  /** New order ids for orders without an idempotency key; `randomUUID` by default. */
  newId?: () => string;
  /**
   * SHOP_IDEMPOTENCY (default true): order ids derived from idempotency keys, reservations
   * retried. `false` is the broken variant: a new id for every attempt, and no retries.
   */
  idempotency?: boolean;
  /** How reservations are retried; RESERVE_RETRY by default. */
  reserveRetry?: RetryPolicy;
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
 *
 * The order id comes from the idempotency key when there is one, so every attempt at the same
 * order reserves under the same id and the inventory takes stock once, whether the answer of an
 * earlier attempt was lost before or after it reserved. A reservation whose answer was lost is
 * retried (RESERVE_RETRY) under that same id.
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

  const idempotent = deps.idempotency ?? true;
  const id = idempotent && key.value !== undefined ? orderIdForKey(key.value) : (deps.newId ?? randomUUID)();
  const reserve = (_attempt?: number, remainingMs?: number): Promise<ReservationResult> =>
    deps.reserveStock({ ...request, orderId: id }, input.requestId, remainingMs);
  const outcome = await deps.store.createOrder<Exclude<ReservationResult, { kind: 'reserved' }>>(
    { id, ...request, idempotencyKey: key.value },
    async () => {
      const reservation = idempotent
        ? await withRetries(deps.reserveRetry ?? RESERVE_RETRY, reserve, { retryable: (o) => !o.ok && isRetryableReservationError(o.error) })
        : await reserve();
      return reservation.kind === 'reserved' ? { ok: true } : { ok: false, reason: reservation };
    },
  );
  switch (outcome.kind) {
    case 'created':
      return { status: 201, body: outcome.order, headers: { location: `/orders/${outcome.order.id}` } };
    case 'exists':
      return replay(outcome.stored, request);
    case 'in_progress':
      throw new HttpError(409, 'order_in_progress', 'an order with this Idempotency-Key is still being placed; try again shortly');
    case 'declined':
      switch (outcome.reason.kind) {
        case 'unknown_sku':
          throw new HttpError(422, 'unknown_sku', `the shop does not sell ${request.sku}`);
        case 'out_of_stock':
          throw new HttpError(409, 'out_of_stock', `only ${outcome.reason.available} of ${request.sku} left`, {
            available: outcome.reason.available,
          });
        case 'conflict':
          // The id derived from this key holds a reservation of something else: an earlier
          // order with this key reserved stock but was not stored (its commit failed, or every
          // answer was lost), and the key came back with another order.
          if (key.value !== undefined) {
            throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for a different order', { orderId: id });
          }
          throw new HttpError(502, 'inventory_error', `the inventory holds a different reservation for order ${id}`);
      }
  }
}

/** `GET /audit?since=<ISO time>`: stored orders per SKU, for the gateway's consistency check. */
export async function getAudit(store: OrderStore, since: string | null): Promise<Reply> {
  const from = since === null || since === '' ? undefined : new Date(since);
  if (from !== undefined && Number.isNaN(from.getTime())) {
    throw new HttpError(400, 'invalid_request', `since: expected an ISO 8601 time such as 2026-01-02T03:04:05Z, got "${since ?? ''}"`);
  }
  return { status: 200, body: { since: from?.toISOString() ?? null, skus: await store.audit(from) } };
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
    // For checks and experiments (the gateway's GET /audit), so untraced like the health check.
    { method: 'GET', path: '/audit', traced: false, handler: ({ query }) => getAudit(deps.store, query.get('since')) },
  ];
}
