/**
 * Roughly how much memory decoded records hold, so that the collector can bound what waits for
 * the store in bytes as well as in records: one record can carry a 256 KiB body and many 16 KiB
 * attributes. Strings count their length, other values 8 bytes, each object a fixed overhead;
 * an object shared by many records (a batch's resource) counts once.
 */
const OBJECT_OVERHEAD = 64;

export function approximateBytes(records: readonly object[]): number {
  const seen = new Set<object>();
  let total = 0;
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'string') total += value.length;
    else if (typeof value === 'object' && value !== null) {
      if (seen.has(value) || depth > 4) return;
      seen.add(value);
      total += OBJECT_OVERHEAD;
      for (const item of Array.isArray(value) ? value : Object.values(value)) walk(item, depth + 1);
    } else total += 8;
  };
  for (const record of records) walk(record, 0);
  return total;
}
