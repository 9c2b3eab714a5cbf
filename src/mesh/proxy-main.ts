/**
 * What a mesh proxy container runs: the proxies of the services it fronts (HTTP and TCP listeners in
 * front of their replicas; HTTP ports shared by several services routed by Host), one control API,
 * one caller resolver, and a telemetry per service, from one validated config (proxy-config.ts). As
 * a program (`meshProxyProgram`, the whole of proxy-bin.ts, bundled on its own as
 * dist/bin/flotilla-mesh-proxy.cjs), it reads the config as JSON from the file named by its first
 * argument or from FLOTILLA_MESH_CONFIG, and stops cleanly on SIGTERM/SIGINT. What this file
 * imports is what every proxy process loads: keep it to node's modules, zod and the mesh.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { formatHostPort } from './address.js';
import { CallerResolver, type LookupAll } from './caller-resolver.js';
import { HostRouter } from './http/host-router.js';
import { createOtlpTelemetry, noTelemetry, type MeshTelemetry } from './http/telemetry/recorder.js';
import { MESH_TOKEN_ENV } from './api-http.js';
import { parseMeshProxyConfig, sharedHttpPorts, type MeshProxyConfig, type MeshProxyConfigInput, type MeshServiceConfig } from './proxy-config.js';
import { ProxyRegistry, type PlacedProxyInput } from './proxy-registry.js';
import type { MeshProxy } from './mesh-proxy.js';
import { startToxiproxyApi, type StartedToxiproxyApi } from './toxiproxy-api.js';

export {
  meshProxyConfigSchema, parseMeshProxyConfig,
  type MeshProxyConfig, type MeshProxyConfigInput, type MeshProxyServiceInput, type MeshServiceConfig, type MeshListenerConfig,
} from './proxy-config.js';

/** A running mesh proxy; dispose it (or `close()`) to stop everything. */
export interface RunningMeshProxy extends AsyncDisposable {
  readonly config: MeshProxyConfig;
  readonly registry: ProxyRegistry;
  readonly api: StartedToxiproxyApi;
  /** The proxies, in config order (services, then their listeners). */
  readonly proxies: readonly MeshProxy[];
  /** The first service's telemetry (the only one, for a one-service config). */
  readonly telemetry: MeshTelemetry;
  /** Each service's telemetry, by service name. */
  readonly telemetries: ReadonlyMap<string, MeshTelemetry>;
  /** The routers of the HTTP ports several services share, by port. */
  readonly sharedPorts: ReadonlyMap<number, HostRouter>;
  /** Knows callers by address, from `callerServices`. */
  readonly callers: CallerResolver;
  close(): Promise<void>;
}

/** How the proxy starts: collaborators a test replaces. */
export interface RunMeshProxyOptions {
  /** Name resolution, for the upstream replicas (HTTP and TCP) and the callers. */
  lookup?: LookupAll;
  /** Makes a service's telemetry; OTLP to `collector` (none without one) unless given. */
  telemetryFor?: (service: MeshServiceConfig, config: MeshProxyConfig) => MeshTelemetry;
}

function otlpTelemetryFor(service: MeshServiceConfig, config: MeshProxyConfig): MeshTelemetry {
  if (!config.collector) return noTelemetry;
  return createOtlpTelemetry({
    service: service.service, version: service.version, endpoint: config.collector,
    ...(service.tracesPerSecond !== undefined && { spansPerSecond: service.tracesPerSecond }),
  });
}

/**
 * Starts the proxies of every service of the config, then the API, so an API that answers means
 * the listeners take connections. It does not wait for upstreams: `up` creates the proxy before any
 * replica, and a service whose upstream does not resolve yet answers 503 (HTTP) or closes the
 * connection (TCP) until it does, asking DNS again on each new connection.
 */
export async function runMeshProxy(input: MeshProxyConfigInput | MeshProxyConfig, options: RunMeshProxyOptions = {}): Promise<RunningMeshProxy> {
  const config = parseMeshProxyConfig(input);
  const fixed = new Map(Object.entries(config.callers));
  const callers = await new CallerResolver({
    services: config.callerServices,
    intervalMs: config.callerRefreshMs,
    ...(config.project !== undefined && { project: config.project }),
    ...(options.lookup && { lookup: options.lookup }),
  }).start();
  const telemetries = new Map(config.services.map((service) => [service.service, (options.telemetryFor ?? otlpTelemetryFor)(service, config)]));
  const routers = new Map([...sharedHttpPorts(config).keys()].map((port) => [port, new HostRouter({ listen: formatHostPort(config.host, port) })]));
  const registry = new ProxyRegistry({
    http: {
      resolveCaller: (ip) => fixed.get(ip) ?? callers.resolve(ip) ?? 'unknown',
      upstreamRefreshMs: config.upstreamRefreshMs,
      ...(options.lookup && { lookup: options.lookup }),
    },
    ...(options.lookup && { lookup: options.lookup }),
  });
  let api: StartedToxiproxyApi | undefined;
  const closeAll = async (): Promise<void> => {
    callers.close();
    await api?.close();
    await registry.close();
    await Promise.all([...routers.values()].map((router) => router.close()));
    await Promise.all([...telemetries.values()].map((telemetry) => telemetry.close()));
  };
  try {
    const proxies = await registry.populate(
      config.services.flatMap((service) =>
        service.listeners.map((listener): PlacedProxyInput => {
          const router = listener.kind === 'http' ? routers.get(listener.port) : undefined;
          return {
            name: listener.name,
            listen: formatHostPort(config.host, listener.port),
            upstream: listener.upstreams.join(','),
            kind: listener.kind,
            ...(listener.resilience ? { resilience: listener.resilience } : {}),
            service: service.service,
            telemetry: telemetries.get(service.service),
            ...(router && { sharedPort: { router, names: service.names } }),
          };
        }),
      ),
    );
    for (const router of routers.values()) await router.start();
    // The token `up` put in the container's environment: only the control plane, which reads it from the Engine, may drive this API.
    api = await startToxiproxyApi({ registry, host: config.api.host, port: config.api.port, token: process.env[MESH_TOKEN_ENV] || undefined });
    const started = api;
    const telemetry = telemetries.get(config.services[0]?.service ?? '') ?? noTelemetry;
    return { config, registry, api: started, proxies, telemetry, telemetries, sharedPorts: routers, callers, close: closeAll, [Symbol.asyncDispose]: closeAll };
  } catch (error) {
    await closeAll();
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
 * one JSON line when it starts (with its services) and when it stops, and resolves once SIGTERM or
 * SIGINT has closed it.
 */
export async function serveMeshProxy(input: MeshProxyConfigInput): Promise<void> {
  const log = (fields: Record<string, unknown>): void => void process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
  const stopped = new AbortController();
  const stop = (): void => stopped.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const running = await runMeshProxy(input);
    const services = running.config.services.map((service) => service.service);
    log({ msg: 'mesh proxy started', services, api: running.api.url, proxies: running.proxies.map((proxy) => proxy.toJSON()) });
    if (!stopped.signal.aborted) await new Promise((resolve) => stopped.signal.addEventListener('abort', resolve, { once: true }));
    await running.close();
    log({ msg: 'mesh proxy stopped', services });
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
