/**
 * An HTTP/1.1 proxy in front of one service's replicas: keep-alive on both sides, bodies streamed,
 * WebSocket upgrades passed through, message-level faults from its toxics, resilience (timeouts,
 * budgeted retries, outlier ejection) and a span pair plus metrics per request. Lifecycle and
 * Toxiproxy-compatible shape are TcpProxy's; the per-request work is in forward.ts.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { formatHostPort, parseHostPort, parseUpstreams } from '../address.js';
import { badRequest, listenFailed } from '../errors.js';
import type { MeshProxy, ProxyJson, ProxyPatch } from '../mesh-proxy.js';
import { describeIssues, ToxicCollection, type Toxic } from '../toxic-collection.js';
import type { ToxicCatalog } from '../toxics/catalog.js';
import { Cancel } from './cancel.js';
import { forwardRequest, forwardUpgrade, type ForwardContext } from './forward.js';
import { createMeshToxicCatalog } from './message-toxics.js';
import { ReplicaSet } from './replicas.js';
import { defaultResilience, resilienceSchema, resilienceToJson, resolveResilience, RetryBudget, type ResilienceSettings } from './resilience.js';
import { noTelemetry, type MeshTelemetry } from './telemetry/recorder.js';

/** Default bound on a request body held in memory for a retry or a duplicate. */
export const DEFAULT_MAX_BODY_BUFFER = 1024 * 1024;

/** How an HTTP proxy is made. */
export interface HttpProxyOptions {
  name: string;
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  /** One replica `host:port`, or a comma-separated list. */
  upstream: string;
  /** The toxic types accepted; the connection toxics plus the HTTP message toxics unless given. */
  catalog?: ToxicCatalog;
  resilience?: ResilienceSettings;
  /** Where each request's spans and metrics go; nowhere unless given. */
  telemetry?: MeshTelemetry;
  /** Names the calling service from its IP address; `unknown` unless given. */
  resolveCaller?: (ip: string) => string;
  /** Bytes of a request body held for a retry or a duplicate; larger bodies stream once. */
  maxBodyBufferBytes?: number;
  /** Uniform [0, 1) source for toxicity rolls, jitter and backoff. */
  random?: () => number;
  /** Upstream connections kept per replica, in use or idle. */
  maxSocketsPerReplica?: number;
}

/** Counters over the proxy's life. */
export interface HttpProxyStats {
  requests: number;
  /** Requests in flight now. */
  active: number;
  /** Attempts upstream, retries and duplicates included. */
  attempts: number;
  retries: number;
  /** Retries the budget refused. */
  budgetRefused: number;
  duplicates: number;
  /** Requests a message fault changed (abort, drop, duplicate, delay). */
  faulted: number;
  /** Attempts that failed with an error (connect, reset, timeout). */
  upstreamErrors: number;
  upgrades: number;
  replicas: { address: string; ejected: boolean; ejections: number; consecutiveFailures: number }[];
}

/** Mutable counters shared with forward.ts. */
export interface HttpCounters {
  requests: number;
  active: number;
  attempts: number;
  retries: number;
  duplicates: number;
  faulted: number;
  upstreamErrors: number;
  upgrades: number;
}

/** Parses resilience JSON from the API (400 on bad input). */
export function parseResilience(input: unknown): ResilienceSettings {
  const parsed = resilienceSchema.safeParse(input ?? {});
  if (!parsed.success) throw badRequest(describeIssues(parsed.error.issues, 'resilience'));
  return resolveResilience(parsed.data);
}

/** A named HTTP proxy with its toxics. Not listening until `enable()`. */
export class HttpProxy implements MeshProxy {
  readonly name: string;
  readonly kind = 'http' as const;
  readonly toxics: ToxicCollection;
  private listenAddress: string;
  private upstreamAddress: string;
  private server: Server | undefined;
  private readonly context: ForwardContext;
  private readonly upgraded = new Set<Socket>();
  private readonly inFlight = new Set<ServerResponse>();

  constructor(options: HttpProxyOptions) {
    parseHostPort(options.listen, 'listen');
    this.name = options.name;
    this.listenAddress = options.listen;
    this.upstreamAddress = options.upstream;
    this.toxics = new ToxicCollection(options.catalog ?? createMeshToxicCatalog());
    const resilience = options.resilience ?? defaultResilience();
    const random = options.random ?? Math.random;
    const releases = new Map<string, Cancel>();
    const counters: HttpCounters = { requests: 0, active: 0, attempts: 0, retries: 0, duplicates: 0, faulted: 0, upstreamErrors: 0, upgrades: 0 };
    this.context = {
      resilience,
      replicas: new ReplicaSet(parseUpstreams(options.upstream, 'upstream'), resilience.ejection),
      budget: new RetryBudget(resilience.budget),
      agent: new http.Agent({
        keepAlive: true,
        // Below Node's default server keep-alive (5 s), so an idle upstream socket is closed here first.
        timeout: 4_000,
        maxSockets: options.maxSocketsPerReplica ?? 256,
        maxFreeSockets: 64,
        scheduling: 'lifo',
      }),
      telemetry: options.telemetry ?? noTelemetry,
      resolveCaller: options.resolveCaller ?? (() => 'unknown'),
      maxBodyBufferBytes: options.maxBodyBufferBytes ?? DEFAULT_MAX_BODY_BUFFER,
      random,
      messageToxics: [],
      releases,
      counters,
      closing: new Cancel(),
    };
    // A snapshot of the message toxics, replaced on every change, so a request reads one array and
    // the pass-through path (no message toxic) costs one length check.
    const refresh = (): void => {
      this.context.messageToxics = this.toxics.list().filter((toxic) => toxic.definition.level === 'message');
    };
    const release = (toxic: Toxic): void => {
      releases.get(toxic.name)?.cancel();
      releases.delete(toxic.name);
    };
    this.toxics.subscribe({
      toxicAdded: refresh,
      toxicUpdated: (toxic) => {
        release(toxic);
        refresh();
      },
      toxicRemoved: (toxic) => {
        release(toxic);
        refresh();
      },
    });
  }

  /** The listen address; once enabled, the address really bound. */
  get listen(): string {
    return this.listenAddress;
  }

  /** The replicas, comma-separated. */
  get upstream(): string {
    return this.upstreamAddress;
  }

  /** Whether the proxy is listening. */
  get enabled(): boolean {
    return this.server !== undefined;
  }

  /** The resilience settings in force. */
  get resilience(): ResilienceSettings {
    return this.context.resilience;
  }

  /** Toxiproxy's proxy JSON with the `kind` and `resilience` extensions. */
  toJSON(): ProxyJson {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, kind: 'http', resilience: resilienceToJson(this.context.resilience) };
  }

  /** Starts listening. A MeshError (500) when the address cannot be bound. */
  async enable(): Promise<void> {
    if (this.server) return;
    const { host, port } = parseHostPort(this.listenAddress, 'listen');
    const server = http.createServer({ keepAlive: true, noDelay: true }, (request, response) => this.onRequest(request, response));
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    // A hung request (http_drop hang) may legitimately wait minutes for its answer.
    server.requestTimeout = 0;
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(request, socket, head));
    server.on('clientError', (_error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, ...(host ? { host } : {}) }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      throw listenFailed(this.listenAddress, error);
    });
    server.on('error', () => undefined);
    const address = server.address() as AddressInfo;
    this.listenAddress = formatHostPort(address.address, address.port);
    if (this.context.closing.cancelled) this.context.closing = new Cancel();
    this.server = server;
  }

  /** Stops listening and closes every connection, in-flight requests and upgraded sockets included. */
  async disable(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.context.closing.cancel();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const response of this.inFlight) response.socket?.destroy();
    for (const socket of this.upgraded) socket.destroy();
    await closed;
  }

  /** Toxiproxy's update rules (a new listen or upstream restarts the proxy), plus new resilience settings applied live. */
  async update(patch: ProxyPatch): Promise<void> {
    const listen = patch.listen ?? this.listenAddress;
    const upstream = patch.upstream ?? this.upstreamAddress;
    const enabled = patch.enabled ?? this.enabled;
    parseHostPort(listen, 'listen');
    const targets = parseUpstreams(upstream, 'upstream');
    const resilience = patch.resilience === undefined ? undefined : parseResilience(patch.resilience);
    if (resilience) this.configure(resilience);
    if (listen !== this.listenAddress || upstream !== this.upstreamAddress) {
      await this.disable();
      this.listenAddress = listen;
      this.upstreamAddress = upstream;
      this.context.replicas = new ReplicaSet(targets, this.context.resilience.ejection);
    }
    if (enabled) await this.enable();
    else await this.disable();
  }

  /** Replaces the resilience settings; requests in flight finish under the settings they started with. */
  configure(resilience: ResilienceSettings): void {
    this.context.resilience = resilience;
    this.context.budget.configure(resilience.budget);
    this.context.replicas.configure(resilience.ejection);
  }

  /** Counters and replica health. */
  stats(): HttpProxyStats {
    const replicas = this.context.replicas;
    return {
      ...this.context.counters,
      budgetRefused: this.context.budget.refused,
      replicas: replicas.replicas.map((replica) => ({
        address: replica.address,
        ejected: replicas.isEjected(replica),
        ejections: replica.ejections,
        consecutiveFailures: replica.consecutiveFailures,
      })),
    };
  }

  /** Disables the proxy, removes its toxics and closes its upstream connections. */
  async close(): Promise<void> {
    await this.disable();
    this.toxics.reset();
    this.context.agent.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    this.inFlight.add(response);
    response.once('close', () => this.inFlight.delete(response));
    forwardRequest(this.context, request, response);
  }

  private onUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    this.upgraded.add(socket);
    socket.once('close', () => this.upgraded.delete(socket));
    forwardUpgrade(this.context, request, socket, head, (upstream) => {
      this.upgraded.add(upstream);
      upstream.once('close', () => this.upgraded.delete(upstream));
    });
  }
}

/** Makes an HTTP proxy and starts it listening; dispose it (or `close()`) to stop. */
export async function startHttpProxy(options: HttpProxyOptions): Promise<HttpProxy> {
  const proxy = new HttpProxy(options);
  await proxy.enable();
  return proxy;
}
