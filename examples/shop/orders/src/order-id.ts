import { createHash } from 'node:crypto';

/**
 * The order id for an idempotency key: a UUID (version 8, RFC 9562's custom kind) made of the
 * first 16 bytes of sha256("shop.orders:" + key). The same key always gives the same id, so every
 * attempt at one order — a client's retry, the gateway's, or a duplicate on the way — reserves
 * stock under one order id, which the inventory takes once.
 */
export function orderIdForKey(key: string): string {
  const bytes = createHash('sha256').update(`shop.orders:${key}`, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10xx
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
