/** Byte values as Compose writes them: `512M`, `1g`, `1.5GB`, `100k`, `2048`, `64mb` (binary multiples). */

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const BYTES = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i;

/** The number of bytes, or undefined when `value` is not a byte size. */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const match = BYTES.exec(value.trim());
  if (!match) return undefined;
  const [, amount = '', unit = ''] = match;
  const multiplier = UNITS[unit.toLowerCase()];
  return multiplier === undefined ? undefined : Math.round(Number(amount) * multiplier);
}
