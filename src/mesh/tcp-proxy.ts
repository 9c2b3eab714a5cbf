/**
 * A TCP proxy with Toxiproxy's behaviour: listens on `listen`, connects each client to `upstream`,
 * and runs each connection's bytes through the proxy's toxics. Disabling it stops listening and
 * closes every connection (Toxiproxy's "down"); enabling it listens again on the same address.
 */
import net, { isIP, type LookupFunction, type Server, type Socket } from 'node:net';
import { bindServer, parseHostPort, parseUpstreams, type HostPort } from './address.js';
import { Connection, type ConnectionInfo } from './connection.js';
import type { LookupAll } from './caller-resolver.js';
import { badRequest } from './errors.js';
import type { MeshProxy, ProxyJson, ProxyPatch } from './mesh-proxy.js';
import { ToxicCollection } from './toxic-collection.js';
import { createToxicCatalog, type ToxicCatalog } from './toxics/catalog.js';

/** Default bound on bytes queued ahead of the toxics, per direction of a connection. */
export const DEFAULT_BUFFER_BYTES = 256 * 1024;

/** How a proxy is made. */
export interface TcpProxyOptions {
  name: string;
  /** The service it fronts, shown in its JSON. */
  service?: string | undefined;
  /** `host:port` to listen on; port 0 picks a free one, and `listen` then reports it. */
  listen: string;
  /** `host:port` to connect each client to; a comma-separated list takes turns (round robin per connection). */
  upstream: string;
  /** The toxic types accepted; the built-in connection toxics unless given. */
  catalog?: ToxicCatalog;
  /** Bytes queued ahead of the toxics per direction before reading pauses. */
  bufferBytes?: number;
  /** Uniform [0, 1) source for toxicity rolls, jitter and slicing. */
  random?: () => number;
  /**
   * Resolves an upstream name, per connection; the system's resolver unless given. A name that does
   * not resolve closes the caller's connection, and the next connection asks again.
   */
  lookup?: LookupAll | undefined;
}

/** A change to a proxy: Toxiproxy's `POST /proxies/{name}` body. */
export type TcpProxyPatch = ProxyPatch;

/** Counters over the proxy's life. */
export interface TcpProxyStats {
  /** Clients accepted. */
  accepted: number;
  /** Connections open now. */
  active: number;
  /** Clients closed because the upstream could not be reached. */
  upstreamFailures: number;
  /** Bytes read from clients / written to upstreams / read from upstreams / written to clients. */
  receivedUp: number;
  sentUp: number;
  receivedDown: number;
  sentDown: number;
}

export type { ProxyJson } from './mesh-proxy.js';

/** A named TCP proxy with its toxics. Not listening until `enable()`. */
export class TcpProxy implements MeshProxy {
  readonly name: string;
  readonly kind = 'tcp' as const;
  readonly toxics: ToxicCollection;
  readonly service: string | undefined;
  private listenAddress: string;
  private upstreamAddress: string;
  private upstreamTargets: HostPort[];
  private nextUpstream = 0;
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private readonly bufferBytes: number;
  private readonly random: () => number;
  private readonly lookup: LookupFunction | undefined;
  private nextId = 1;
  private readonly totals = { accepted: 0, upstreamFailures: 0, receivedUp: 0, sentUp: 0, receivedDown: 0, sentDown: 0 };

  constructor(options: TcpProxyOptions) {
    parseHostPort(options.listen, 'listen');
    this.name = options.name;
    this.service = options.service;
    this.lookup = options.lookup && netLookup(options.lookup);
    this.listenAddress = options.listen;
    this.upstreamAddress = options.upstream;
    this.upstreamTargets = parseUpstreams(options.upstream, 'upstream');
    this.toxics = new ToxicCollection(options.catalog ?? createToxicCatalog());
    this.bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    this.random = options.random ?? Math.random;
  }

  /** The listen address; once enabled, the address really bound (port 0 resolved). */
  get listen(): string {
    return this.listenAddress;
  }

  /** The upstream address. */
  get upstream(): string {
    return this.upstreamAddress;
  }

  /** Whether the proxy is listening. */
  get enabled(): boolean {
    return this.server !== undefined;
  }

  /** Toxiproxy's proxy JSON. */
  toJSON(): ProxyJson {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, ...(this.service !== undefined && { service: this.service }) };
  }

  /** Starts listening. A no-op when already enabled; a MeshError (500) when the address cannot be bound. */
  async enable(): Promise<void> {
    if (this.server) return;
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
    this.listenAddress = await bindServer(server, this.listenAddress);
    this.server = server;
  }

  /** Stops listening and closes every connection (new clients are refused). */
  async disable(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of this.connections) connection.destroy();
    await closed;
  }

  /**
   * Applies Toxiproxy's update rules: a new listen or upstream address restarts the proxy (dropping
   * its connections); `enabled` then starts or stops it. Addresses are checked before anything changes.
   */
  async update(patch: TcpProxyPatch): Promise<void> {
    if (patch.resilience !== undefined) throw badRequest('resilience: only HTTP proxies have resilience settings');
    const listen = patch.listen ?? this.listenAddress;
    const upstream = patch.upstream ?? this.upstreamAddress;
    const enabled = patch.enabled ?? this.enabled;
    parseHostPort(listen, 'listen');
    const targets = parseUpstreams(upstream, 'upstream');
    if (listen !== this.listenAddress || upstream !== this.upstreamAddress) {
      await this.disable();
      this.listenAddress = listen;
      this.upstreamAddress = upstream;
      this.upstreamTargets = targets;
    }
    if (enabled) await this.enable();
    else await this.disable();
  }

  /** Counters, including the connections still open. */
  stats(): TcpProxyStats {
    const stats = { ...this.totals, active: this.connections.size };
    for (const connection of this.connections) addInfo(stats, connection.info());
    return stats;
  }

  /** The connections open now. */
  connectionInfo(): ConnectionInfo[] {
    return [...this.connections].map((connection) => connection.info());
  }

  /** Disables the proxy and removes its toxics. */
  async close(): Promise<void> {
    await this.disable();
    this.toxics.reset();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private accept(client: Socket): void {
    if (!this.server) {
      client.destroy();
      return;
    }
    this.totals.accepted++;
    const target = this.upstreamTargets[this.nextUpstream++ % this.upstreamTargets.length] as HostPort;
    const upstream = net.connect({ host: target.host || '127.0.0.1', port: target.port, allowHalfOpen: true, noDelay: true, ...(this.lookup && { lookup: this.lookup }) });
    const connection = new Connection({
      id: this.nextId++,
      client,
      upstream,
      toxics: this.toxics,
      bufferBytes: this.bufferBytes,
      random: this.random,
      onFinished: (finished) => {
        this.connections.delete(finished);
        addInfo(this.totals, finished.info());
      },
    });
    this.connections.add(connection);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      connection.start();
    });
    // The connection's own error handler destroys both sides; this only counts the failure.
    upstream.once('error', () => {
      if (!connected) this.totals.upstreamFailures++;
    });
  }
}

function addInfo(into: Omit<TcpProxyStats, 'accepted' | 'active' | 'upstreamFailures'>, info: ConnectionInfo): void {
  into.receivedUp += info.receivedUp;
  into.sentUp += info.sentUp;
  into.receivedDown += info.receivedDown;
  into.sentDown += info.sentDown;
}

/** A LookupAll in the shape net.connect asks for (it asks for every address when it may try several families). */
function netLookup(lookup: LookupAll): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname).then(
      (answers) => {
        const found = answers.map(({ address }) => ({ address, family: isIP(address) }));
        const first = found[0];
        if (!first) callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
        else if (options.all) callback(null, found);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

/** Makes a proxy and starts it listening; dispose it (or `close()`) to stop. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const proxy = new TcpProxy(options);
  await proxy.enable();
  return proxy;
}
