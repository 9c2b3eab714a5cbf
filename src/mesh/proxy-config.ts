/**
 * The config of a mesh proxy process: the services it fronts (one process serves several, as
 * Istio's ambient proxies do; a Node process is too large to run one per service), their
 * listeners, its API and its telemetry. Written either as `services: [...]` or, for one service,
 * as the older shorthand with `service`, `version`, `listeners` at the top; both parse to one
 * shape, `services` always filled. Ports: a TCP port belongs to one listener; an HTTP port may be
 * shared by several services' HTTP listeners, told apart by the Host a request names.
 */
import * as z from 'zod';
import { UsageError } from '../core/errors.js';
import { parseHostPort } from './address.js';
import { hostnameOf } from './http/host-router.js';
import { resilienceSchema } from './http/resilience.js';
import { TOXIPROXY_DEFAULT_PORT } from './toxiproxy-api.js';

const hostPort = z.string().refine((value) => {
  try {
    parseHostPort(value, 'upstream');
    return true;
  } catch {
    return false;
  }
}, 'must be host:port');

const listenerSchema = z.strictObject({
  /** 0 picks a free port (tests); a port-0 listener never shares its port. */
  port: z.number().int().min(0).max(65535),
  kind: z.enum(['http', 'tcp']),
  upstreams: z.array(hostPort).min(1),
  /** The proxy's name in the API; `<service>-<port>` unless given. Unique in the whole config. */
  name: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  /** HTTP only. */
  resilience: resilienceSchema.optional(),
});

const tracesPerSecond = z.number().min(0).max(100_000).optional();

/** One service of the process. */
const serviceSchema = z.strictObject({
  /** The service behind the listeners: the callee in every span. */
  service: z.string().min(1),
  /** The callee's version, recorded on its spans and metrics. */
  version: z.string().default('unknown'),
  /** The names callers reach it by (the container's network aliases); `[service]` unless given. On a shared HTTP port, the Host a request must name. */
  names: z.array(z.string().regex(/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/, 'must be a host name')).min(1).optional(),
  /** Traces a second the proxy starts for this service (sampler.ts); the default when absent. */
  tracesPerSecond,
  listeners: z.array(listenerSchema).min(1),
});

/** The config as JSON: `services`, or the one-service shorthand (`service`, `version`, `listeners`, `tracesPerSecond`). */
export const meshProxyConfigSchema = z.strictObject({
  services: z.array(serviceSchema).min(1).optional(),
  /** Shorthand for one service: these four stand for `services: [{ service, version, listeners, tracesPerSecond }]`. */
  service: z.string().min(1).optional(),
  version: z.string().optional(),
  listeners: z.array(listenerSchema).min(1).optional(),
  tracesPerSecond,
  /** Address the listeners bind; every interface (a container's) unless given. */
  host: z.string().default('0.0.0.0'),
  api: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(TOXIPROXY_DEFAULT_PORT) }).prefault({}),
  /** OTLP/HTTP collector base URL; no telemetry is sent without it. */
  collector: z.url({ protocol: /^https?$/ }).optional(),
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

/** The config as written (defaults optional): what `up` puts in FLOTILLA_MESH_CONFIG. */
export type MeshProxyConfigInput = z.input<typeof meshProxyConfigSchema>;

/** One service of the config as written. */
export type MeshProxyServiceInput = z.input<typeof serviceSchema>;

/** A listener with its name resolved. */
export type MeshListenerConfig = z.output<typeof listenerSchema> & { name: string };

/** A service with every default applied. */
export interface MeshServiceConfig {
  service: string;
  version: string;
  /** Lower case, no trailing dot. */
  names: string[];
  tracesPerSecond?: number | undefined;
  listeners: MeshListenerConfig[];
}

/** The config with every default applied, always as `services`. */
export type MeshProxyConfig = Omit<z.output<typeof meshProxyConfigSchema>, 'services' | 'service' | 'version' | 'listeners' | 'tracesPerSecond'> & {
  services: MeshServiceConfig[];
};

/** Zod's issues with paths as written in JSON: `services[1].listeners[0].port: …`. */
function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('').replace(/^\./, '');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

function invalid(detail: string): UsageError {
  return new UsageError(`invalid mesh proxy config: ${detail}`);
}

/** Validates a config and turns the shorthand into `services`; a UsageError names every bad field. */
export function parseMeshProxyConfig(input: unknown): MeshProxyConfig {
  const parsed = meshProxyConfigSchema.safeParse(input);
  if (!parsed.success) throw invalid(describe(parsed.error.issues));
  const { services: written, service, version, listeners, tracesPerSecond: rate, ...rest } = parsed.data;
  const shorthand = service !== undefined || version !== undefined || listeners !== undefined || rate !== undefined;
  if (written && shorthand) throw invalid('give either services or the one-service shorthand (service, version, listeners, tracesPerSecond), not both');
  if (!written && service === undefined) throw invalid('services: required (or service and listeners, for one service)');
  if (!written && listeners === undefined) throw invalid('listeners: required');
  const entries = written ?? [{ service: service as string, version: version ?? 'unknown', listeners: listeners ?? [], tracesPerSecond: rate }];
  const services = entries.map((entry, index): MeshServiceConfig => {
    const where = written ? `services[${index}].` : '';
    const names = [...new Set((entry.names ?? [entry.service]).map(hostnameOf))];
    return {
      service: entry.service,
      version: entry.version,
      names,
      tracesPerSecond: entry.tracesPerSecond,
      listeners: entry.listeners.map((listener, at) => {
        if (listener.kind === 'tcp' && listener.resilience) throw invalid(`${where}listeners[${at}] (port ${listener.port}): resilience applies to http listeners only`);
        return { ...listener, name: listener.name ?? `${entry.service}-${listener.port}` };
      }),
    };
  });
  checkUnique(services);
  checkPorts(services, rest.api.port);
  return { ...rest, services };
}

/** Service names, host names and listener names are each unique in the process. */
function checkUnique(services: readonly MeshServiceConfig[]): void {
  const serviceOf = new Map<string, string>();
  const listenerOf = new Map<string, string>();
  for (const entry of services) {
    if (services.filter((other) => other.service === entry.service).length > 1) throw invalid(`service "${entry.service}" is listed twice`);
    for (const name of entry.names) {
      const other = serviceOf.get(name);
      if (other !== undefined) throw invalid(`services "${other}" and "${entry.service}" both answer to the name "${name}"`);
      serviceOf.set(name, entry.service);
    }
    for (const listener of entry.listeners) {
      if (listenerOf.has(listener.name)) throw invalid(`two listeners are named "${listener.name}"; give them distinct ports or names`);
      listenerOf.set(listener.name, entry.service);
    }
  }
}

/** A TCP port is one listener's; an HTTP port may be several services' HTTP listeners (one each); port 0 is never shared. */
function checkPorts(services: readonly MeshServiceConfig[], apiPort: number): void {
  const taken = new Map<number, { service: string; kind: string }[]>();
  for (const entry of services) {
    for (const listener of entry.listeners) {
      if (listener.port === 0) continue;
      if (listener.port === apiPort) throw invalid(`port ${listener.port} of service "${entry.service}" is the API's port`);
      const users = taken.get(listener.port) ?? [];
      const clash = users.find((user) => user.service === entry.service || user.kind === 'tcp' || listener.kind === 'tcp');
      if (clash) {
        const why = clash.service === entry.service ? 'a service listens once per port' : 'only http listeners share a port (told apart by Host)';
        throw invalid(`port ${listener.port}: ${clash.kind} listener of "${clash.service}" and ${listener.kind} listener of "${entry.service}" clash; ${why}`);
      }
      users.push({ service: entry.service, kind: listener.kind });
      taken.set(listener.port, users);
    }
  }
}

/** The HTTP ports used by more than one service (port → the services there): each gets a Host router. */
export function sharedHttpPorts(config: MeshProxyConfig): Map<number, string[]> {
  const users = new Map<number, string[]>();
  for (const entry of config.services) {
    for (const listener of entry.listeners) {
      if (listener.kind !== 'http' || listener.port === 0) continue;
      users.set(listener.port, [...(users.get(listener.port) ?? []), entry.service]);
    }
  }
  return new Map([...users].filter(([, services]) => services.length > 1));
}
