/** SQLite failures of the telemetry store as FlotillaErrors naming the file and what to do. */
import { FlotillaError } from '../../core/errors.js';

/** A FlotillaError for a SQLite failure on `file` (FlotillaErrors pass through unchanged). */
export function telemetryStoreError(error: unknown, file: string): unknown {
  if (error instanceof FlotillaError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new FlotillaError('TELEMETRY_STORE_CORRUPT', `The telemetry database ${file} is ${code === 'SQLITE_NOTADB' ? 'not a SQLite database' : 'corrupt'} (${message})`, {
      // Telemetry is disposable, unlike the build history: starting afresh is the usual fix.
      hint: `Move it away (mv ${file} ${file}.broken) and start again: Flotilla creates a new, empty one.`,
      cause: error,
    });
  }
  if (code === 'SQLITE_BUSY') {
    return new FlotillaError('TELEMETRY_STORE_BUSY', `The telemetry database ${file} stayed locked by another process`, {
      hint: 'Another `flotilla serve` may be writing to it; stop it or give this one another file.',
      cause: error,
    });
  }
  if (code === 'SQLITE_FULL') {
    return new FlotillaError('TELEMETRY_STORE_FULL', `The disk holding the telemetry database ${file} is full`, {
      hint: 'Free space, or lower the retention (maxAgeMs, maxRecords) so fewer records are kept.',
      cause: error,
    });
  }
  return new FlotillaError('TELEMETRY_STORE_FAILED', `The telemetry database ${file} failed: ${message}`, {
    hint: 'Check that the file and its directory are readable and writable.',
    cause: error,
  });
}
