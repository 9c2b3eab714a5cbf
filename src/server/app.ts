/** The collector's HTTP application: the OTLP receiver and the query API over one store. */
import Fastify, { type FastifyInstance } from 'fastify';
import { defaultDecodeLimits, type DecodeLimits } from '../telemetry/otlp/index.js';
import type { TelemetryStore } from '../telemetry/store/index.js';
import { registerApiRoutes } from './api-routes.js';
import { createIngest, defaultIngestLimits, type Ingest, type IngestLimits } from './ingest.js';
import { registerOtlpRoutes } from './otlp-routes.js';
import { inProcessWriter, type StoreWriter } from './store-writer.js';

export interface CollectorAppOptions {
  /** For queries; also the writer unless `writer` is given. */
  store: TelemetryStore;
  writer?: StoreWriter;
  token: string;
  decodeLimits?: Partial<DecodeLimits>;
  ingestLimits?: Partial<IngestLimits>;
  /** Default 32 MiB: eight maximal requests being read at once. */
  maxInflightBodyBytes?: number;
  now?: () => number;
  /** Errors nobody expected (answered 500): the server's owner prints them. */
  onError?: (error: unknown) => void;
}

/** How long one request may take to arrive whole: a sender trickling bytes must not hold its share of memory for ever. */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface CollectorApp {
  app: FastifyInstance;
  ingest: Ingest;
}

export function createCollectorApp(options: CollectorAppOptions): CollectorApp {
  const decodeLimits = { ...defaultDecodeLimits, ...options.decodeLimits };
  const { store } = options;
  const ingest = createIngest(options.writer ?? inProcessWriter(store), { ...defaultIngestLimits, ...options.ingestLimits });
  // On close, idle keep-alive connections go at once; requests in flight are answered first.
  const app = Fastify({ logger: false, bodyLimit: decodeLimits.maxBodyBytes, requestTimeout: REQUEST_TIMEOUT_MS, forceCloseConnections: 'idle' });
  const onError = options.onError ?? (() => undefined);
  // OTLP bodies are decoded by the route, whatever their type says: it answers 415 itself, in OTLP's format.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  registerOtlpRoutes(app, { ingest, decodeLimits, maxInflightBodyBytes: options.maxInflightBodyBytes ?? 32 * 1024 * 1024, onError });
  registerApiRoutes(app, { store, ingest, token: options.token, onError, ...(options.now ? { now: options.now } : {}) });
  app.addHook('onClose', async () => ingest.close());
  return { app, ingest };
}
