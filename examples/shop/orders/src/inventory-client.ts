import { HttpError } from '../../shared/http.js';

/** What the inventory said to a reservation. */
export type ReservationResult = { kind: 'reserved' } | { kind: 'unknown_sku' } | { kind: 'out_of_stock'; available: number };

/** How long the inventory may take to answer, by default. */
const TIMEOUT_MS = 5_000;

/**
 * Asks the inventory service to set stock aside for an order. The order id makes the call
 * safe to repeat. Failures of the inventory itself become 502/504 HttpErrors.
 */
export async function reserveStock(
  baseUrl: string,
  request: { sku: string; quantity: number; orderId: string },
  requestId: string,
  timeoutMs = TIMEOUT_MS,
): Promise<ReservationResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(new URL('/reservations', baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify(request),
      signal,
    });
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
  throw new HttpError(502, 'inventory_error', `the inventory answered ${response.status}`);
}
