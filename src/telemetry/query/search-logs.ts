/** Log search: filters, full-text over bodies, newest first. */
import type { TelemetryStore } from '../store/telemetry-store.js';
import { fromLogRow, LOG_COLUMNS, type LogOut } from '../store/rows.js';
import type { LogRecord, SeverityText } from '../types.js';
import { checkedLimit, severityFloor, windowConditions, type TimeWindow } from './filters.js';
import { ftsPhrase } from './fts.js';

/** What to look for; every given filter must hold. */
export interface LogSearch extends TimeWindow {
  service?: string;
  /** The project (Compose project name): the resource's `service.namespace`, as `up` and the agent set it. */
  project?: string;
  /** Words the body contains, next to each other and in this order (case-insensitive). */
  text?: string;
  /** Minimum severity, by name (any case) or OTLP severity number; checked at run time too, for input from outside. */
  level?: SeverityText | Lowercase<SeverityText> | number;
  traceId?: string;
  limit: number;
}

/** Logs matching `search`, newest first. */
export function searchLogs(store: TelemetryStore, search: LogSearch): LogRecord[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (search.service !== undefined) {
    where.push('service = ?');
    params.push(search.service);
  }
  if (search.project !== undefined) {
    // Not indexed: it narrows what the service and time indexes found.
    where.push(`json_extract(resource, '$."service.namespace"') = ?`);
    params.push(search.project);
  }
  windowConditions('time_ns', search, where, params);
  if (search.level !== undefined) {
    where.push('severity_number >= ?');
    params.push(severityFloor(search.level));
  }
  if (search.traceId !== undefined) {
    // The second condition lets SQLite use the partial index, which leaves out logs with no trace.
    where.push("trace_id = ? AND trace_id <> ''");
    params.push(search.traceId.toLowerCase());
  }
  const limit = checkedLimit(search.limit);
  const text = search.text !== undefined && search.text.trim() !== '' ? ftsPhrase(search.text) : undefined;
  const filters = where.length ? `AND ${where.join(' AND ')}` : '';
  return store.read((prepare) => {
    // Ids follow time (see the store's insert), so `id DESC` is newest first.
    let sql = `SELECT ${LOG_COLUMNS} FROM logs WHERE 1 ${filters} ORDER BY id DESC LIMIT ?`;
    let values = [...params, limit];
    if (text !== undefined) {
      // FTS5 hands its matches over newest first (rowid order, which is time order); each is
      // checked against the other filters and the walk stops at the page size, however many
      // logs contain the words.
      sql = `WITH matches(id) AS (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? ORDER BY rowid DESC)
        SELECT ${LOG_COLUMNS} FROM matches JOIN logs USING (id) WHERE 1 ${filters} ORDER BY id DESC LIMIT ?`;
      values = [text, ...params, limit];
    }
    return (prepare(sql).all(...values) as LogOut[]).map(fromLogRow);
  });
}
