/**
 * The named proxies of one mesh process (Toxiproxy's ProxyCollection). Changes to the set are
 * serialised, so two requests racing on one name cannot both create it; toxic changes do not go
 * through here and never wait on them.
 */
import { parseHostPort, parseUpstreams } from './address.js';
import { badRequest, missingField, proxyExists, proxyNotFound } from './errors.js';
import type { LookupAll } from './caller-resolver.js';
import { HttpProxy, parseResilience, type HttpProxyOptions, type SharedHttpPort } from './http/http-proxy.js';
import { createMeshToxicCatalog } from './http/message-toxics.js';
import type { ResilienceSettings } from './http/resilience.js';
import type { MeshTelemetry } from './http/telemetry/recorder.js';
import { PROXY_KINDS, type MeshProxy, type ProxyKind, type ProxyPatch } from './mesh-proxy.js';
import { TcpProxy } from './tcp-proxy.js';
import type { ToxicCatalog } from './toxics/catalog.js';

/** A proxy to create, as a client sends it. */
export interface ProxyInput {
  name?: string | undefined;
  /** `127.0.0.1:0` unless given: loopback, any free port. */
  listen?: string | undefined;
  upstream?: string | undefined;
  /** `true` unless given. */
  enabled?: boolean | undefined;
  /** Extension: `tcp` unless given. */
  kind?: string | undefined;
  /** Extension, HTTP proxies only: resilience settings (JSON; defaults fill what is not given). */
  resilience?: unknown;
}

/**
 * Where a proxy of a mesh proxy process belongs, beyond the API's fields: never from the API (its
 * bodies are parsed to ProxyInput's fields only). A populate that replaces a proxy without saying
 * keeps the old proxy's placement, so the replacement stays on its service's telemetry and port.
 */
export interface ProxyPlacement {
  /** The service the proxy fronts: in its JSON, so the control plane can tell services of one container apart. */
  service?: string | undefined;
  /** HTTP proxies: this service's telemetry instead of the registry's. */
  telemetry?: MeshTelemetry | undefined;
  /** HTTP proxies: a port shared with other services, routed by Host. */
  sharedPort?: SharedHttpPort | undefined;
}

/** A proxy to create with its placement (runMeshProxy's). */
export type PlacedProxyInput = ProxyInput & ProxyPlacement;

/** What every HTTP proxy of a registry shares: its telemetry, caller names, bounds, name resolution. */
export type HttpProxyDefaults = Pick<
  HttpProxyOptions,
  'telemetry' | 'resolveCaller' | 'maxBodyBufferBytes' | 'maxSocketsPerReplica' | 'maxBufferedBytes' | 'maxDuplicatesInFlight' | 'duplicateTimeoutMs' | 'limits' | 'lookup' | 'upstreamRefreshMs'
>;

/** How a registry is made. */
export interface ProxyRegistryOptions {
  /** Toxic types: the connection toxics plus the HTTP message toxics unless given. TCP proxies get only the connection-level ones, HTTP proxies only the message-level ones. */
  catalog?: ToxicCatalog;
  bufferBytes?: number;
  random?: () => number;
  /** Collaborators of the HTTP proxies. */
  http?: HttpProxyDefaults;
  /** Resolves TCP proxies' upstream names per connection; the system's resolver unless given. */
  lookup?: LookupAll;
}

/** Listen address for a proxy created without one. */
export const DEFAULT_LISTEN = '127.0.0.1:0';

interface CheckedInput {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  kind: ProxyKind;
  resilience: ResilienceSettings | undefined;
  placement: ProxyPlacement;
}

/** Toxiproxy's required fields and defaults; `where` says which item of a populate list failed. */
function checkInput(input: PlacedProxyInput, where = ''): CheckedInput {
  if (!input.name) throw missingField(`name${where}`);
  if (!input.upstream) throw missingField(`upstream${where}`);
  const kind = (input.kind ?? 'tcp') as ProxyKind;
  if (!PROXY_KINDS.includes(kind)) throw badRequest(`kind${where}: "${input.kind}" is not one of ${PROXY_KINDS.join(', ')}`);
  if (kind === 'tcp' && input.resilience !== undefined) throw badRequest(`resilience${where}: only HTTP proxies have resilience settings`);
  const resilience = kind === 'http' && input.resilience !== undefined ? parseResilience(input.resilience) : undefined;
  const placement = { service: input.service, telemetry: input.telemetry, sharedPort: input.sharedPort };
  const checked = { name: input.name, listen: input.listen || DEFAULT_LISTEN, upstream: input.upstream, enabled: input.enabled ?? true, kind, resilience, placement };
  parseHostPort(checked.listen, `listen${where}`);
  parseUpstreams(checked.upstream, `upstream${where}`);
  return checked;
}

/** Proxies by name, with Toxiproxy's create, update, populate and reset rules. */
export class ProxyRegistry implements AsyncDisposable {
  /** The toxic types every proxy here accepts. */
  readonly catalog: ToxicCatalog;
  private readonly proxies = new Map<string, MeshProxy>();
  private readonly placements = new Map<string, ProxyPlacement>();
  private readonly connectionCatalog: ToxicCatalog;
  private readonly options: ProxyRegistryOptions;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: ProxyRegistryOptions = {}) {
    this.options = options;
    this.catalog = options.catalog ?? createMeshToxicCatalog();
    // A message fault on a TCP proxy would be accepted and never applied: refuse it instead. (HTTP
    // proxies refuse connection toxics the same way; see http/http-toxics.ts.)
    this.connectionCatalog = new Map([...this.catalog].filter(([, definition]) => definition.level === 'connection'));
  }

  /** Every proxy, in creation order. */
  list(): MeshProxy[] {
    return [...this.proxies.values()];
  }

  /** The proxy of that name; 404 otherwise. */
  get(name: string): MeshProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw proxyNotFound(name);
    return proxy;
  }

  /** Creates a proxy and, unless `enabled: false`, starts it. 409 if the name is taken. */
  async create(input: ProxyInput): Promise<MeshProxy> {
    const checked = checkInput(input);
    return this.exclusive(async () => {
      if (this.proxies.has(checked.name)) throw proxyExists(checked.name);
      const proxy = await this.start(checked);
      this.proxies.set(checked.name, proxy);
      return proxy;
    });
  }

  /** Updates a proxy's listen, upstream or enabled fields. */
  update(name: string, patch: ProxyPatch): Promise<MeshProxy> {
    return this.exclusive(async () => {
      const proxy = this.get(name);
      await proxy.update(patch);
      return proxy;
    });
  }

  /** Stops and forgets a proxy. */
  remove(name: string): Promise<void> {
    return this.exclusive(async () => {
      const proxy = this.get(name);
      this.proxies.delete(name);
      this.placements.delete(name);
      await proxy.close();
    });
  }

  /**
   * Creates or replaces a list of proxies. Every item is checked before anything changes; a proxy
   * with the same listen and upstream as an existing one is kept as it is (toxics included),
   * otherwise the existing one is stopped and replaced.
   */
  async populate(inputs: readonly PlacedProxyInput[]): Promise<MeshProxy[]> {
    const checked = inputs.map((input, index) => checkInput(input, ` at proxy ${index + 1}`));
    const names = new Set<string>();
    for (const item of checked) {
      if (names.has(item.name)) throw badRequest(`duplicate proxy name "${item.name}"`);
      names.add(item.name);
    }
    return this.exclusive(async () => {
      const result: MeshProxy[] = [];
      for (const item of checked) {
        const existing = this.proxies.get(item.name);
        if (existing && existing.kind === item.kind && existing.listen === item.listen && existing.upstream === item.upstream) {
          if (existing instanceof HttpProxy && item.resilience) existing.configure(item.resilience);
          result.push(existing);
          continue;
        }
        if (existing) {
          this.proxies.delete(item.name);
          await existing.close();
          const kept = this.placements.get(item.name);
          if (kept && isEmpty(item.placement)) item.placement = kept;
        }
        const proxy = await this.start(item);
        this.proxies.set(item.name, proxy);
        result.push(proxy);
      }
      return result;
    });
  }

  /** Enables every proxy and removes every toxic. */
  reset(): Promise<void> {
    return this.exclusive(async () => {
      for (const proxy of this.proxies.values()) {
        proxy.toxics.reset();
        await proxy.enable();
      }
    });
  }

  /** Stops every proxy and forgets them. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      const proxies = [...this.proxies.values()];
      this.proxies.clear();
      this.placements.clear();
      await Promise.all(proxies.map((proxy) => proxy.close()));
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async start(input: CheckedInput): Promise<MeshProxy> {
    const proxy = input.kind === 'http' ? this.httpProxy(input) : this.tcpProxy(input);
    this.placements.set(input.name, input.placement);
    if (input.enabled) await proxy.enable();
    return proxy;
  }

  private httpProxy(input: CheckedInput): HttpProxy {
    const defaults: HttpProxyDefaults = this.options.http ?? {};
    const given = Object.fromEntries(Object.entries(defaults).filter(([, value]) => value !== undefined)) as HttpProxyDefaults;
    const { service, telemetry, sharedPort } = input.placement;
    return new HttpProxy({
      ...given,
      ...(telemetry && { telemetry }),
      service,
      // A placement outlives replacements (populate keeps it), its shared port only while the proxy asks
      // for that port's address: another listen takes it to a port of its own, as an update does (kept on
      // the shared port, its listen would never match, and every populate would replace it again).
      sharedPort: sharedPort?.router.listen === input.listen ? sharedPort : undefined,
      name: input.name,
      listen: input.listen,
      upstream: input.upstream,
      catalog: this.catalog,
      ...(input.resilience ? { resilience: input.resilience } : {}),
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
    });
  }

  private tcpProxy(input: CheckedInput): TcpProxy {
    return new TcpProxy({
      name: input.name,
      service: input.placement.service,
      lookup: this.options.lookup,
      listen: input.listen,
      upstream: input.upstream,
      catalog: this.connectionCatalog,
      ...(this.options.bufferBytes === undefined ? {} : { bufferBytes: this.options.bufferBytes }),
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
    });
  }

  /** Runs `task` after every earlier change has finished. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

function isEmpty(placement: ProxyPlacement): boolean {
  return placement.service === undefined && placement.telemetry === undefined && placement.sharedPort === undefined;
}
