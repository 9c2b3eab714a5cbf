import { checkQuantity, checkSku, isRecord, type Parsed } from '../../shared/validate.js';

/** What a client asks for in `POST /orders`. */
export interface OrderRequest {
  sku: string;
  quantity: number;
}

/** Checks a `POST /orders` body: `{ sku, quantity }` and nothing else. */
export function parseOrderRequest(body: unknown): Parsed<OrderRequest> {
  if (!isRecord(body)) return { ok: false, errors: ['body: must be a JSON object'] };
  const errors: string[] = [];
  const { sku, quantity, ...rest } = body;
  const skuOk = checkSku(sku, errors);
  const quantityOk = checkQuantity(quantity, errors);
  for (const key of Object.keys(rest)) errors.push(`${key}: unknown field (allowed: sku, quantity)`);
  if (!skuOk || !quantityOk || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { sku, quantity } };
}

const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * Checks the Idempotency-Key header: absent is fine (undefined); present, it must be
 * 1-255 visible ASCII characters, given once.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): Parsed<string | undefined> {
  if (header === undefined) return { ok: true, value: undefined };
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(header)) {
    return { ok: false, errors: ['Idempotency-Key: must be given once, as 1-255 visible ASCII characters'] };
  }
  return { ok: true, value: header };
}
