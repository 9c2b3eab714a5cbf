/**
 * A running collector: the store, the HTTP application on every address asked for, periodic
 * retention, and the state file that tells the CLI where it is. `flotilla serve` wraps this.
 */
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { FlotillaError } from '../core/errors.js';
import type { DecodeLimits } from '../telemetry/otlp/index.js';
import { openTelemetryStore, TELEMETRY_FILE, type Evicted, type RetentionPolicy } from '../telemetry/store/index.js';
import { createCollectorApp, REQUEST_TIMEOUT_MS, type CollectorApp } from './app.js';
import { newToken } from './auth.js';
import type { IngestLimits } from './ingest.js';
import { removeServeState, writeServeState } from './state-file.js';
import { inProcessWriter, workerWriter } from './store-writer.js';

/** OTLP/HTTP's standard port. */
export const OTLP_HTTP_PORT = 4318;

export interface CollectorOptions {
  /** Directory of telemetry.db. */
  dataDir: string;
  /** Addresses to listen on; the first is the one the CLI uses. */
  hosts: string[];
  port: number;
  retention: RetentionPolicy;
  /** How often retention runs. Default one minute. */
  retentionIntervalMs?: number;
  /** The bundled store writer worker (dist/bin/flotilla-store-writer.cjs); without it the store is written on the main thread. */
  writerScript?: string;
  /** Where serve.json goes; none written when absent. */
  stateDir?: string;
  token?: string;
  decodeLimits?: Partial<DecodeLimits>;
  ingestLimits?: Partial<IngestLimits>;
  maxInflightBodyBytes?: number;
  onEvicted?: (evicted: Evicted) => void;
  onRetentionError?: (error: unknown) => void;
  /** An unexpected error answered with 500. */
  onError?: (error: unknown) => void;
  /** The collector cannot go on (its store writer died): the owner should report it and stop. */
  onFatal?: (error: Error) => void;
}

export interface CollectorHandle {
  readonly url: string;
  readonly token: string;
  /** `address:port` of every listener. */
  readonly listening: string[];
  readonly app: CollectorApp;
  close(): Promise<void>;
}

export async function startCollector(options: CollectorOptions): Promise<CollectorHandle> {
  const [primary, ...others] = options.hosts;
  if (primary === undefined) throw new FlotillaError('SERVE_NO_ADDRESS', 'no address to listen on');
  const file = path.join(options.dataDir, TELEMETRY_FILE);
  // The writer opens the file first (creating and migrating it); queries use a connection of their own (WAL: readers never wait).
  const writer = options.writerScript
    ? await workerWriter(options.writerScript, file, options.retention, (error) => options.onFatal?.(error))
    : undefined;
  const store = openTelemetryStore(file, { retention: options.retention, durable: writer === undefined });
  const token = options.token ?? newToken();
  const collector = createCollectorApp({
    store,
    ...(writer ? { writer } : {}),
    token,
    ...(options.decodeLimits ? { decodeLimits: options.decodeLimits } : {}),
    ...(options.ingestLimits ? { ingestLimits: options.ingestLimits } : {}),
    ...(options.maxInflightBodyBytes ? { maxInflightBodyBytes: options.maxInflightBodyBytes } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const { app } = collector;
  const extra: Server[] = [];
  let timer: NodeJS.Timeout | undefined;
  // Shutdown order: refuse new requests (503) and commit what waits, so every request in flight
  // gets its answer; then close the listeners, idle connections at once.
  const close = async (): Promise<void> => {
    clearInterval(timer);
    await collector.ingest.close();
    await Promise.all(extra.map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    })));
    await app.close();
    await writer?.close();
    store.close();
    if (options.stateDir) removeServeState(options.stateDir, process.pid);
  };

  try {
    await app.listen({ host: primary, port: options.port });
    const port = (app.server.address() as { port: number }).port;
    // Further addresses share the application; each is one more plain listener on the same port.
    for (const host of others) {
      const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (request, response) => app.routing(request, response));
      extra.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
    }
    const listening = options.hosts.map((host) => `${host.includes(':') ? `[${host}]` : host}:${port}`);
    const url = `http://${listening[0] ?? ''}`;
    const retain = writer ?? inProcessWriter(store);
    timer = setInterval(() => {
      retain.enforceRetention().then((evicted) => {
        if (Object.values(evicted).some((count) => count > 0)) options.onEvicted?.(evicted);
      }, (error: unknown) => options.onRetentionError?.(error));
    }, options.retentionIntervalMs ?? 60_000);
    timer.unref();
    if (options.stateDir) {
      writeServeState(options.stateDir, { pid: process.pid, url, token, listening, dataDir: options.dataDir, startedAt: new Date().toISOString() });
    }
    return { url, token, listening, app: collector, close };
  } catch (error) {
    await close().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new FlotillaError('SERVE_PORT_IN_USE', `port ${options.port} is already in use`, { hint: 'Another collector may be running (`flotilla serve` once per machine), or choose one with --port.', cause: error });
    }
    if (code === 'EADDRNOTAVAIL') {
      throw new FlotillaError('SERVE_ADDRESS_UNAVAILABLE', `cannot listen on ${options.hosts.join(', ')}: not an address of this machine`, { cause: error });
    }
    throw error;
  }
}
