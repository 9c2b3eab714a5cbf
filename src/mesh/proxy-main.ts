/**
 * What a mesh proxy container runs: the proxies of one service (HTTP and TCP listeners in front of
 * its replicas), its control API, and its telemetry, from one validated config. As a program
 * (`meshProxyProgram`, the whole of proxy-bin.ts, bundled on its own as
 * dist/bin/flotilla-mesh-proxy.cjs), it reads the config as JSON from the file named by its first
 * argument or from FLOTILLA_MESH_CONFIG, and stops cleanly on SIGTERM/SIGINT. What this file
 * imports is what every proxy process loads: keep it to node's modules, zod and the mesh.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { UsageError } from '../core/errors.js';
import { formatHostPort, parseHostPort } from './address.js';
import { CallerResolver, waitForHosts, type LookupAll } from './caller-resolver.js';
import { describeIssues } from './toxic-collection.js';
import { resilienceSchema } from './http/resilience.js';
import { createOtlpTelemetry, noTelemetry, type MeshTelemetry } from './http/telemetry/recorder.js';
import { MESH_TOKEN_ENV } from './api-http.js';
import { ProxyRegistry } from './proxy-registry.js';
import type { MeshProxy } from './mesh-proxy.js';
import { startToxiproxyApi, TOXIPROXY_DEFAULT_PORT, type StartedToxiproxyApi } from './toxiproxy-api.js';

const hostPort = z.string().refine((value) => {
  try {
    parseHostPort(value, 'upstream');
    return true;
  } catch {
    return false;
  }
}, 'must be host:port');

/** The config of one service's mesh proxy. */
export const meshProxyConfigSchema = z.strictObject({
  /** The service behind the proxy: the callee in every span. */
  service: z.string().min(1),
  /** The callee's version, recorded on its spans and metrics. */
  version: z.string().default('unknown'),
  /** Address the listeners bind; every interface (a container's) unless given. */
  host: z.string().default('0.0.0.0'),
  listeners: z
    .array(
      z.strictObject({
        /** 0 picks a free port (tests). */
        port: z.number().int().min(0).max(65535),
        kind: z.enum(['http', 'tcp']),
        upstreams: z.array(hostPort).min(1),
        /** The proxy's name in the API; `<service>-<port>` unless given. */
        name: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
        /** HTTP only. */
        resilience: resilienceSchema.optional(),
      }),
    )
    .min(1),
  api: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(TOXIPROXY_DEFAULT_PORT) }).prefault({}),
  /** OTLP/HTTP collector base URL; no telemetry is sent without it. */
  collector: z.url({ protocol: /^https?$/ }).optional(),
  /** Traces a second this proxy starts (sampler.ts); the default when absent. */
  tracesPerSecond: z.number().min(0).max(100_000).optional(),
  /** Caller IP → service name, fixed; checked before `callerServices`. Unknown callers are `unknown`. */
  callers: z.record(z.string(), z.string()).default({}),
  /** The project's service names: the proxy resolves `X` and `X-upstream` every `callerRefreshMs` and knows callers by those addresses. */
  callerServices: z.array(z.string().min(1)).default([]),
  /** The Compose project: callers at other addresses are found by reverse lookup of their container names. */
  project: z.string().min(1).optional(),
  callerRefreshMs: z.number().int().min(100).default(5_000),
  /** Milliseconds between two resolutions of the upstream names (each replica address is balanced and ejected on its own). */
  upstreamRefreshMs: z.number().int().min(100).default(5_000),
});

/** The config as written (defaults optional). */
export type MeshProxyConfigInput = z.input<typeof meshProxyConfigSchema>;

/** The config with every default applied. */
export type MeshProxyConfig = z.output<typeof meshProxyConfigSchema>;

/** A running mesh proxy; dispose it (or `close()`) to stop everything. */
export interface RunningMeshProxy extends AsyncDisposable {
  readonly config: MeshProxyConfig;
  readonly registry: ProxyRegistry;
  readonly api: StartedToxiproxyApi;
  /** The proxies, in listener order. */
  readonly proxies: readonly MeshProxy[];
  readonly telemetry: MeshTelemetry;
  /** Knows callers by address, from `callerServices`. */
  readonly callers: CallerResolver;
  close(): Promise<void>;
}

/** How the proxy starts: collaborators a test replaces. */
export interface RunMeshProxyOptions {
  /** Name resolution, for the upstream wait, the upstream replicas and the callers. */
  lookup?: LookupAll;
  /** Told once when the proxy waits for its upstreams to resolve. */
  onWait?: (missing: string[]) => void;
  signal?: AbortSignal;
}

/** Validates a config; a UsageError names every bad field. */
export function parseMeshProxyConfig(input: unknown): MeshProxyConfig {
  const parsed = meshProxyConfigSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(`invalid mesh proxy config: ${describeIssues(parsed.error.issues, '')}`);
  const config = parsed.data;
  const names = new Set<string>();
  for (const listener of config.listeners) {
    if (listener.kind === 'tcp' && listener.resilience) throw new UsageError(`invalid mesh proxy config: listener on port ${listener.port}: resilience applies to http listeners only`);
    const name = listener.name ?? `${config.service}-${listener.port}`;
    if (names.has(name)) throw new UsageError(`invalid mesh proxy config: two listeners are named "${name}"; give them distinct ports or names`);
    names.add(name);
  }
  return config;
}

/**
 * Starts the proxies of one service, its API and its telemetry. It first waits until every
 * upstream host resolves (in a container: until the service's replicas are on the network), and
 * starts the API last, so an API that answers means the listeners forward.
 */
export async function runMeshProxy(input: MeshProxyConfigInput | MeshProxyConfig, options: RunMeshProxyOptions = {}): Promise<RunningMeshProxy> {
  const config = parseMeshProxyConfig(input);
  const hosts = config.listeners.flatMap((listener) => listener.upstreams.map((upstream) => parseHostPort(upstream, 'upstream').host));
  await waitForHosts(hosts, { ...(options.lookup && { lookup: options.lookup }), ...(options.onWait && { onWait: options.onWait }), ...(options.signal && { signal: options.signal }) });
  const fixed = new Map(Object.entries(config.callers));
  const callers = await new CallerResolver({
    services: config.callerServices,
    intervalMs: config.callerRefreshMs,
    ...(config.project !== undefined && { project: config.project }),
    ...(options.lookup && { lookup: options.lookup }),
  }).start();
  const telemetry = config.collector
    ? createOtlpTelemetry({
        service: config.service, version: config.version, endpoint: config.collector,
        ...(config.tracesPerSecond !== undefined && { spansPerSecond: config.tracesPerSecond }),
      })
    : noTelemetry;
  const registry = new ProxyRegistry({
    http: {
      telemetry,
      resolveCaller: (ip) => fixed.get(ip) ?? callers.resolve(ip) ?? 'unknown',
      upstreamRefreshMs: config.upstreamRefreshMs,
      ...(options.lookup && { lookup: options.lookup }),
    },
  });
  let api: StartedToxiproxyApi | undefined;
  try {
    const proxies = await registry.populate(
      config.listeners.map((listener) => ({
        name: listener.name ?? `${config.service}-${listener.port}`,
        listen: formatHostPort(config.host, listener.port),
        upstream: listener.upstreams.join(','),
        kind: listener.kind,
        ...(listener.resilience ? { resilience: listener.resilience } : {}),
      })),
    );
    // The token `up` put in the container's environment: only the control plane, which reads it from the Engine, may drive this API.
    api = await startToxiproxyApi({ registry, host: config.api.host, port: config.api.port, token: process.env[MESH_TOKEN_ENV] || undefined });
    const started = api;
    const close = async (): Promise<void> => {
      callers.close();
      await started.close();
      await registry.close();
      await telemetry.close();
    };
    return { config, registry, api: started, proxies, telemetry, callers, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    callers.close();
    await api?.close();
    await registry.close();
    await telemetry.close();
    throw error;
  }
}

/** Parses config text (JSON); a UsageError names the source when it is not JSON. */
export function parseMeshProxyConfigText(text: string | undefined, source: string): MeshProxyConfigInput {
  if (!text) throw new UsageError(`no mesh proxy config: ${source} is empty`);
  try {
    return JSON.parse(text) as MeshProxyConfigInput;
  } catch (error) {
    throw new UsageError(`invalid mesh proxy config in ${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Runs a proxy as a process's whole job (`flotilla mesh-proxy`, or this file run directly): logs
 * one JSON line when it waits and when it starts, and resolves once SIGTERM or SIGINT has closed
 * it (a signal during the upstream wait stops the wait).
 */
export async function serveMeshProxy(input: MeshProxyConfigInput): Promise<void> {
  const log = (fields: Record<string, unknown>): void => void process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
  const stopped = new AbortController();
  const stop = (): void => stopped.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    let running: RunningMeshProxy;
    try {
      running = await runMeshProxy(input, { signal: stopped.signal, onWait: (missing) => log({ msg: 'waiting for upstreams to resolve', hosts: missing }) });
    } catch (error) {
      if (stopped.signal.aborted) return;
      throw error;
    }
    log({ msg: 'mesh proxy started', service: running.config.service, api: running.api.url, proxies: running.proxies.map((proxy) => proxy.toJSON()) });
    if (!stopped.signal.aborted) await new Promise((resolve) => stopped.signal.addEventListener('abort', resolve, { once: true }));
    await running.close();
    log({ msg: 'mesh proxy stopped', service: running.config.service });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}

/** Reads the config as a program: a JSON file named by the first argument, or FLOTILLA_MESH_CONFIG. */
function configFromProcess(): MeshProxyConfigInput {
  const file = process.argv[2];
  return file ? parseMeshProxyConfigText(readFileSync(file, 'utf8'), file) : parseMeshProxyConfigText(process.env.FLOTILLA_MESH_CONFIG, 'FLOTILLA_MESH_CONFIG');
}

/** Runs the proxy as the process's whole job (proxy-bin.ts): exits 0 once stopped by a signal, 2 with the message on stderr when it cannot start. */
export function meshProxyProgram(): void {
  new Promise<MeshProxyConfigInput>((resolve) => resolve(configFromProcess()))
    .then(serveMeshProxy)
    .then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(2);
      },
    );
}
