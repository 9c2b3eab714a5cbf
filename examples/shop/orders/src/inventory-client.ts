import { HttpError } from '../../shared/http.js';

/** What the inventory said to a reservation. */
export type ReservationResult =
  | { kind: 'reserved' }
  | { kind: 'unknown_sku' }
  | { kind: 'out_of_stock'; available: number }
  /** The order id already holds a reservation of something else. */
  | { kind: 'conflict' };

/** How long the inventory may take to answer, by default. */
export const RESERVE_TIMEOUT_MS = 5_000;

/** How `reserveStock` calls the inventory. */
export interface ReserveOptions {
  /** How long the inventory may take to answer (default 5 s). */
  timeoutMs?: number;
  /**
   * Send `Idempotency-Key: <orderId>`, which tells a mesh proxy in between that the request is
   * safe to retry (the inventory takes stock once per order id). Off in the broken variant.
   */
  idempotencyKey?: boolean;
}

/** Statuses a proxy or the inventory answers when it could not do the work: worth another try. */
const UNAVAILABLE = new Set([502, 503, 504]);

/**
 * Asks the inventory service to set stock aside for an order. The order id makes the call
 * safe to repeat. Failures of the inventory itself become 502/504 HttpErrors: those that
 * `isRetryableReservationError` accepts may be tried again with the same order id.
 */
export async function reserveStock(
  baseUrl: string,
  request: { sku: string; quantity: number; orderId: string },
  requestId: string,
  options: ReserveOptions = {},
): Promise<ReservationResult> {
  const timeoutMs = options.timeoutMs ?? RESERVE_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId };
  if (options.idempotencyKey === true) headers['idempotency-key'] = request.orderId;
  let response: Response;
  try {
    response = await fetch(new URL('/reservations', baseUrl), { method: 'POST', headers, body: JSON.stringify(request), signal });
  } catch (error) {
    // Read from the signal: Node 18 does not always name the error TimeoutError.
    if (signal.aborted) {
      throw new HttpError(504, 'inventory_timeout', `the inventory did not answer within ${timeoutMs} ms`);
    }
    throw new HttpError(502, 'inventory_unreachable', `the inventory is unreachable: ${String(error)}`);
  }
  const body = (await response.json().catch(() => ({}))) as { error?: unknown; available?: unknown };
  if (response.status === 200 || response.status === 201) return { kind: 'reserved' };
  if (response.status === 404 && body.error === 'unknown_sku') return { kind: 'unknown_sku' };
  if (response.status === 409 && body.error === 'out_of_stock') {
    return { kind: 'out_of_stock', available: typeof body.available === 'number' ? body.available : 0 };
  }
  if (response.status === 409 && body.error === 'reservation_conflict') return { kind: 'conflict' };
  if (UNAVAILABLE.has(response.status)) {
    throw new HttpError(502, 'inventory_unavailable', `the inventory (or a proxy in front of it) answered ${response.status}`);
  }
  throw new HttpError(502, 'inventory_error', `the inventory answered ${response.status}`);
}

/**
 * Whether a failed reservation may be tried again under the same order id: the answer was lost
 * (unreachable, reset, timed out) or the inventory was unavailable (502/503/504). Not its
 * other answers, which would only come again.
 */
export function isRetryableReservationError(error: unknown): boolean {
  return error instanceof HttpError && ['inventory_unreachable', 'inventory_timeout', 'inventory_unavailable'].includes(error.code);
}
