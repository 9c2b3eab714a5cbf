/**
 * The store writer thread (bundled as dist/bin/flotilla-store-writer.cjs): owns the write
 * connection to telemetry.db and answers the collector's requests one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openTelemetryStore, type RetentionPolicy, type TelemetryStore } from '../telemetry/store/index.js';
import type { WriterReply, WriterRequest } from './store-writer.js';

const port = parentPort;
if (!port) throw new Error('store-writer-worker runs as a worker thread of `flotilla serve`');
const { file, retention } = workerData as { file: string; retention: RetentionPolicy };
const reply = (message: WriterReply): void => port.postMessage(message);

let store: TelemetryStore;
try {
  store = openTelemetryStore(file, { retention, durable: true });
  reply({ ready: true });
} catch (error) {
  reply({ failed: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

port.on('message', (request: WriterRequest) => {
  try {
    switch (request.op) {
      case 'write': {
        const records = request.records as never[];
        const stored = request.signal === 'logs' ? store.insertLogs(records) : request.signal === 'traces' ? store.insertSpans(records) : store.insertMetrics(records);
        reply({ id: request.id, ok: true, result: stored });
        break;
      }
      case 'retention':
        reply({ id: request.id, ok: true, result: store.enforceRetention() });
        break;
      case 'close':
        store.close();
        reply({ id: request.id, ok: true, result: undefined });
        port.close();
        break;
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    reply({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) });
  }
});
