/** Metric data points of one metric over a time window, for charts and probes. */
import type { TelemetryStore } from '../store/telemetry-store.js';
import { fromMetricRow, METRIC_COLUMNS, type MetricOut } from '../store/metric-rows.js';
import type { MetricPointRecord } from '../types.js';
import type { RequiredWindow } from './dependency-map.js';
import { checkedLimit, MAX_LIMIT, msToNs } from './filters.js';

/** Which points: one metric by name, optionally one service's, whose time falls in [since, until). */
export interface MetricSeriesQuery extends RequiredWindow {
  name: string;
  service?: string;
  /** At most this many points, the newest; MAX_LIMIT when left out. */
  limit?: number;
}

/**
 * The points of `query.name` in the window, oldest first (every series of the metric together:
 * group by `attributes` to split them). Walks the (name, time) or (service, time) index.
 */
export function metricSeries(store: TelemetryStore, query: MetricSeriesQuery): MetricPointRecord[] {
  const params: unknown[] = [query.name, msToNs(query.since, 'since'), msToNs(query.until, 'until')];
  let filter = '';
  if (query.service !== undefined) {
    filter = 'AND service = ?';
    params.push(query.service);
  }
  params.push(checkedLimit(query.limit ?? MAX_LIMIT));
  const rows = store.read((prepare) =>
    prepare(`SELECT ${METRIC_COLUMNS} FROM metric_points WHERE name = ? AND time_ns >= ? AND time_ns < ? ${filter}
      ORDER BY time_ns DESC, id DESC LIMIT ?`).all(...params) as MetricOut[]);
  return rows.reverse().map(fromMetricRow);
}
