/**
 * The agent's options, validated with clear messages and resolved to a shape with every
 * default applied, so nothing below has to guess.
 */
import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import type { Driver } from '../runtime/driver.js';
import type { AgentEventListener } from './types.js';

/** Options of startAgent. */
export interface AgentOptions {
  /** The runtime whose containers are followed. */
  driver: Driver;
  /** OTLP/HTTP base URL; records go to `{endpoint}/v1/logs`. Default http://127.0.0.1:4318. */
  endpoint?: string;
  /** Headers sent with every request (an endpoint's credentials: `Authorization`, API keys). Default none. */
  headers?: Record<string, string>;
  /** The SQLite file holding the queue, cursors and counts (created with its directory). */
  stateFile: string;
  /** Only containers of these projects; default every Flotilla project. */
  projects?: string[];
  /** Records the queue holds; beyond it new records are dropped and counted. Default 1,000,000. */
  maxQueueRecords?: number;
  /** Records per request, and lines per queue transaction. Default 5,000. */
  batchSize?: number;
  /** Longest a read line waits before it is queued, and between looks at an idle queue. Default 200 ms. */
  flushIntervalMs?: number;
  /** How long stop() keeps delivering before it closes. Default 5 s. */
  stopGraceMs?: number;
  /** Where FLOTILLA_ENVIRONMENT is read from; default process.env. */
  env?: Record<string, string | undefined>;
  onEvent?: AgentEventListener;
}

/** Options with every default applied. */
export interface ResolvedAgentOptions {
  driver: Driver;
  endpoint: string;
  /** `{endpoint}/v1/logs`. */
  logsUrl: string;
  headers: Record<string, string>;
  stateFile: string;
  projects: string[];
  maxQueueRecords: number;
  batchSize: number;
  flushIntervalMs: number;
  stopGraceMs: number;
  env: Record<string, string | undefined>;
  onEvent: AgentEventListener;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4318';

/**
 * Headers from OTEL_EXPORTER_OTLP_HEADERS (and its logs-only twin), as the OpenTelemetry
 * specification writes them: `key=value,key2=value2`, values percent-encoded.
 */
export function otlpHeadersFromEnv(env: Record<string, string | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const variable of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_LOGS_HEADERS']) {
    for (const pair of (env[variable] ?? '').split(',')) {
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      try {
        headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
      } catch {
        throw new UsageError(`${variable}: the value of ${pair.slice(0, at).trim()} is not valid percent-encoding`);
      }
    }
  }
  return headers;
}

const endpointSchema = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}, 'must be an http:// or https:// URL without a query or fragment, such as http://127.0.0.1:4318')
  // fetch() refuses URLs with credentials; they would fail every request and fill the queue.
  .refine((text) => !/^[a-z]+:\/\/[^/]*@/i.test(text), 'must not hold credentials (user:password@): send them as a header, e.g. --header "Authorization=Basic …"');

/** Header names and values as HTTP allows them (no line breaks: nothing can be smuggled into the request). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headersSchema = z.record(z.string(), z.string().regex(/^[^\r\n]*$/, 'must not contain line breaks')).superRefine((headers, context) => {
  for (const name of Object.keys(headers)) {
    if (!HEADER_NAME.test(name)) context.addIssue({ code: 'custom', path: [name], message: 'must be an HTTP header name' });
  }
});

const schema = z.object({
  driver: z.custom<Driver>((value) => typeof value === 'object' && value !== null && 'containerLogs' in value, 'must be a runtime Driver'),
  endpoint: endpointSchema.default(DEFAULT_ENDPOINT),
  headers: headersSchema.default({}),
  stateFile: z.string().min(1, 'must name a file'),
  projects: z.array(z.string().min(1, 'project names cannot be empty')).default([]),
  maxQueueRecords: z.number().int().min(1).max(1_000_000_000).default(1_000_000),
  // The collector takes at most 10,000 records per request. One request is in flight at a time, so a
  // request is what a round trip carries, and the collector holds one under 4,096 records for 20 ms
  // to group it with others before it commits: draining a queue into `flotilla serve` went from
  // about 22,000 records/s with 1,000 a request to about 46,000 with 5,000 (8,000: about 43,000).
  batchSize: z.number().int().min(1).max(10_000).default(5_000),
  flushIntervalMs: z.number().int().min(10).max(60_000).default(200),
  stopGraceMs: z.number().int().min(0).max(600_000).default(5_000),
  env: z.record(z.string(), z.string().optional()).optional(),
  onEvent: z.custom<AgentEventListener>((value) => typeof value === 'function', 'must be a function').optional(),
});

/** Validates `options` and applies the defaults; a bad option is a UsageError naming it. */
export function resolveAgentOptions(options: AgentOptions): ResolvedAgentOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`);
    throw new UsageError(`Invalid agent options: ${problems.join('; ')}`);
  }
  const value = parsed.data;
  const base = value.endpoint.replace(/\/+$/, '');
  return {
    driver: value.driver,
    endpoint: base,
    logsUrl: base.endsWith('/v1/logs') ? base : `${base}/v1/logs`,
    headers: value.headers,
    stateFile: value.stateFile,
    projects: value.projects,
    maxQueueRecords: value.maxQueueRecords,
    batchSize: value.batchSize,
    flushIntervalMs: value.flushIntervalMs,
    stopGraceMs: value.stopGraceMs,
    env: value.env ?? process.env,
    onEvent: value.onEvent ?? (() => undefined),
  };
}
