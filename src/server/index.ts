/** The collector server: OTLP/HTTP receiver, query API, and the state file that lets the CLI find it. */
export { startCollector, OTLP_HTTP_PORT, type CollectorHandle, type CollectorOptions } from './collector.js';
export { createCollectorApp, type CollectorApp, type CollectorAppOptions } from './app.js';
export { readServeState, userStateDir, serveStateFile, type ServeState } from './state-file.js';
export { parseTimeExpression } from './time-expression.js';
export type { IngestCounters, IngestLimits } from './ingest.js';
