/** Queries over the telemetry store: log search, traces, the dependency map, RED, impact and metric series. */
export { searchLogs, type LogSearch } from './search-logs.js';
export { findTraces, traceSpans, type TraceSearch, type TraceSummary } from './traces.js';
export { dependencyMap, type DependencyEdge, type RequiredWindow } from './dependency-map.js';
export { red, type RedReport, type RedStats } from './red.js';
export { impact, type EntryPointImpact } from './impact.js';
export { metricSeries, type MetricSeriesQuery } from './metric-series.js';
export type { LatencyStats } from './percentiles.js';
export { MAX_LIMIT, type TimeWindow } from './filters.js';
export { ftsPhrase } from './fts.js';
