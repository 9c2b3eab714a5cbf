import { FlotillaError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/;

/** True when `text` is a Go-style duration as Compose writes them: `10s`, `1m30s`, `1.5h`, `500ms`. */
export function isDuration(text: string): boolean {
  return tryParseDuration(text) !== undefined;
}

/** Milliseconds in a Go-style duration, or undefined when it is not one. */
export function tryParseDuration(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest.length > 0) {
    const match = DURATION.exec(rest);
    if (!match) return undefined;
    const [whole, amount, unit] = match;
    total += Number(amount) * (UNIT_MS[unit as string] ?? 0);
    rest = rest.slice(whole.length);
  }
  return total;
}

/** Milliseconds in a duration that the loader already validated. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new FlotillaError('DURATION_INVALID', `"${text}" is not a duration (expected e.g. 10s, 1m30s, 500ms)`);
  return ms;
}
