/** The outcome of checking untrusted input: the typed value, or every problem found. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** A stock keeping unit: 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The largest quantity one order or reservation may ask for. */
export const MAX_QUANTITY = 1000;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value is a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether text is a UUID in its canonical 8-4-4-4-12 hex form. */
export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

/** Checks a SKU field; pushes a message onto `errors` when it is wrong. */
export function checkSku(value: unknown, errors: string[], field = 'sku'): value is string {
  if (typeof value === 'string' && SKU_PATTERN.test(value)) return true;
  errors.push(`${field}: must be a string of 1-64 letters, digits, '.', '_' or '-'`);
  return false;
}

/** Checks a quantity field (a whole number from 1 to MAX_QUANTITY). */
export function checkQuantity(value: unknown, errors: string[], field = 'quantity'): value is number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_QUANTITY) return true;
  errors.push(`${field}: must be a whole number from 1 to ${MAX_QUANTITY}`);
  return false;
}

/** Reads PORT-like settings: a whole number from 1 to 65535, or the fallback when unset. */
export function parsePort(text: string | undefined, fallback: number): number {
  if (text === undefined || text.trim() === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`PORT must be a whole number from 1 to 65535, got "${text}"`);
  }
  return port;
}

/**
 * Reads an on/off setting such as SHOP_IDEMPOTENCY: `on` or `off` (any case), or the fallback
 * when unset or empty. Throws an Error naming the setting otherwise.
 */
export function parseOnOff(name: string, text: string | undefined, fallback: boolean): boolean {
  const value = text?.trim().toLowerCase() ?? '';
  if (value === '') return fallback;
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new Error(`${name} must be "on" or "off", got "${text ?? ''}"`);
}
