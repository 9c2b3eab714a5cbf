/** Points in time as people type them in queries: `15m` (ago), an ISO timestamp, or epoch milliseconds. */
import { UsageError } from '../core/errors.js';
import { tryParseDuration } from '../spec/duration.js';

/** Epoch milliseconds for `text`, relative to `now` for a duration; names `what` in the error. */
export function parseTimeExpression(text: string, what: string, now: number): number {
  const trimmed = text.trim();
  if (/^\d{12,}$/.test(trimmed)) return Number(trimmed);
  const ago = tryParseDuration(trimmed);
  if (ago !== undefined) return now - ago;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) {
    throw new UsageError(`${what} "${text}": expected a duration ago (15m, 1h30m), a timestamp (2026-11-26T10:00:00Z) or epoch milliseconds`);
  }
  return at;
}
