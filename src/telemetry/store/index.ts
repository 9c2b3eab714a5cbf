/** The telemetry store: SQLite tables for logs, spans and metric points, batched inserts, retention. */
export {
  openTelemetryStore,
  TELEMETRY_FILE,
  type Evicted,
  type Prepare,
  type RetentionPolicy,
  type TelemetryStats,
  type TelemetryStore,
  type TelemetryStoreOptions,
} from './telemetry-store.js';
export { TELEMETRY_SCHEMA_VERSION } from './schema.js';
