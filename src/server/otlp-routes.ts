/**
 * The OTLP/HTTP receiver: POST /v1/logs, /v1/traces, /v1/metrics, protobuf or JSON, gzip or not,
 * answered as the OTLP specification says. Memory stays bounded twice over: request bodies being
 * read count against `maxInflightBodyBytes`, decoded records against the ingest's pending bounds
 * (records and bytes). A request arriving when either is full gets 429 with Retry-After before its
 * body is read; one whose records do not fit gets it after decoding, with nothing stored.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  OtlpDecodeError, decodeLogsRequest, decodeMetricsRequest, decodeTracesRequest, encodeExportResponse, encodeStatusResponse,
  type DecodeLimits, type OtlpAnswer, type OtlpSignal as Signal,
} from '../telemetry/otlp/index.js';
import type { Decoded } from '../telemetry/types.js';
import { IngestRefused, type Ingest, type RecordsOf } from './ingest.js';
import { approximateBytes } from './record-size.js';


export interface OtlpRouteOptions {
  ingest: Ingest;
  decodeLimits: DecodeLimits;
  /** Bytes of request bodies being received at once, across connections. */
  maxInflightBodyBytes: number;
  onError: (error: unknown) => void;
}

type Decoder<S extends Signal> = (body: Buffer, contentType: string, contentEncoding: string | undefined, limits: DecodeLimits) => Decoded<RecordsOf[S]>;

/** Registers the three OTLP routes on `app`. */
const decoders: { [S in Signal]: Decoder<S> } = { logs: decodeLogsRequest, traces: decodeTracesRequest, metrics: decodeMetricsRequest };

export function registerOtlpRoutes(app: FastifyInstance, options: OtlpRouteOptions): void {
  const { ingest, decodeLimits } = options;
  let inflightBytes = 0;
  const claimed = new WeakMap<FastifyRequest, number>();
  const release = (request: FastifyRequest): void => {
    inflightBytes -= claimed.get(request) ?? 0;
    claimed.delete(request);
  };

  for (const signal of ['logs', 'traces', 'metrics'] as const) {
    const decode = decoders[signal] as Decoder<typeof signal>;
    app.post(`/v1/${signal}`, {
      bodyLimit: decodeLimits.maxBodyBytes,
      // Refuse before reading the body: an overloaded collector must not buffer what it cannot take.
      onRequest: async (request, reply) => {
        const declared = Number(request.headers['content-length'] ?? decodeLimits.maxBodyBytes);
        const cost = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, decodeLimits.maxBodyBytes) : decodeLimits.maxBodyBytes;
        try {
          if (declared > decodeLimits.maxBodyBytes) {
            throw new OtlpDecodeError(413, `request body is ${declared} bytes, over the limit of ${decodeLimits.maxBodyBytes}`);
          }
          if (inflightBytes + cost > options.maxInflightBodyBytes) {
            throw new IngestRefused(429, `the collector is receiving ${inflightBytes} bytes of requests (limit ${options.maxInflightBodyBytes}); retry later`, 1);
          }
          ingest.admit(1, 0);
        } catch (error) {
          return sendFailure(reply, request, error, options.onError);
        }
        inflightBytes += cost;
        claimed.set(request, cost);
        return undefined;
      },
      onResponse: (request, _reply, done) => {
        release(request);
        done();
      },
      onRequestAbort: (request, done) => {
        release(request);
        done();
      },
    }, async (request, reply) => {
      const body: Buffer = Buffer.isBuffer(request.body) ? (request.body) : Buffer.alloc(0);
      const json = isJson(request);
      try {
        const contentEncoding = request.headers['content-encoding'];
        const decoded = decode(body, request.headers['content-type'] ?? '', typeof contentEncoding === 'string' ? contentEncoding : undefined, decodeLimits);
        // The body is decoded: it no longer counts against the bytes bound, its records now count against the ingest's.
        release(request);
        await ingest.submit(signal, decoded.records, approximateBytes(decoded.records));
        return sendBody(reply, 200, encodeExportResponse(signal, json, decoded));
      } catch (error) {
        return sendFailure(reply, request, error, options.onError);
      }
    });
  }
}

/** Answers in the request's encoding; JSON when the request's Content-Type is not protobuf. */
function isJson(request: FastifyRequest): boolean {
  return !/^\s*application\/x-protobuf\s*(;|$)/i.test(request.headers['content-type'] ?? '');
}

function sendBody(reply: FastifyReply, status: number, { contentType, body }: OtlpAnswer): FastifyReply {
  return reply.code(status).header('content-type', contentType).send(body);
}

/** A refused request: its status, Retry-After when retrying helps, and a google.rpc.Status body. */
function sendFailure(reply: FastifyReply, request: FastifyRequest, error: unknown, onError: (error: unknown) => void): FastifyReply {
  const json = isJson(request);
  if (error instanceof OtlpDecodeError) return sendBody(reply, error.status, encodeStatusResponse(error.status, json, error.message));
  if (error instanceof IngestRefused) {
    reply.header('retry-after', String(error.retryAfterSeconds));
    return sendBody(reply, error.status, encodeStatusResponse(error.status, json, error.message));
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  // Fastify's own refusals (body too large, unsupported media type) keep their status.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return sendBody(reply, status, encodeStatusResponse(status, json, (error as Error).message));
  }
  onError(error);
  return sendBody(reply, 500, encodeStatusResponse(500, json, 'internal error in the collector (see its output)'));
}
