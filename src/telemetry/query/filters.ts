/** Shared pieces of the telemetry queries: time windows, limits, severities. */
import { UsageError } from '../../core/errors.js';
import type { SeverityText } from '../types.js';

/** The most rows one query returns, whatever the caller asks. */
export const MAX_LIMIT = 10_000;

/** A time window in Unix epoch milliseconds: since inclusive, until exclusive. */
export interface TimeWindow {
  since?: number;
  until?: number;
}

/** Epoch milliseconds as the store's epoch nanoseconds. */
export function msToNs(ms: number, what: string): bigint {
  if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`${what} must be a time in epoch milliseconds, not ${ms}`);
  return BigInt(Math.floor(ms)) * 1_000_000n;
}

/** A limit checked to be a whole number from 1 to MAX_LIMIT. */
export function checkedLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new UsageError(`limit must be a whole number from 1 to ${MAX_LIMIT}, not ${limit}`);
  }
  return limit;
}

/** The lowest OTLP severity number of each severity name (TRACE 1–4, DEBUG 5–8, ... FATAL 21–24). */
const SEVERITY_FLOOR: Record<SeverityText, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

/** The minimum severity number for a level given by name (any case) or number. */
export function severityFloor(level: SeverityText | Lowercase<SeverityText> | number): number {
  if (typeof level === 'number') {
    if (!Number.isInteger(level) || level < 0 || level > 24) throw new UsageError(`level must be a severity number from 0 to 24, not ${level}`);
    return level;
  }
  const floor = SEVERITY_FLOOR[level.toUpperCase() as SeverityText] as number | undefined;
  if (floor === undefined) throw new UsageError(`level must be one of ${Object.keys(SEVERITY_FLOOR).join(', ')}, not "${level}"`);
  return floor;
}

/** SQL conditions and parameters for a window over `column`. */
export function windowConditions(column: string, window: TimeWindow, where: string[], params: unknown[]): void {
  if (window.since !== undefined) {
    where.push(`${column} >= ?`);
    params.push(msToNs(window.since, 'since'));
  }
  if (window.until !== undefined) {
    where.push(`${column} < ?`);
    params.push(msToNs(window.until, 'until'));
  }
}

/** Nanoseconds (as SQLite returns an INTEGER duration) in milliseconds. */
export const nsToMs = (ns: number): number => ns / 1e6;
