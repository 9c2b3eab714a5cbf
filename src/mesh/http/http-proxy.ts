/**
 * An HTTP/1.1 proxy in front of one service's replicas: keep-alive on both sides, bodies streamed,
 * WebSocket upgrades passed through, message-level faults from its toxics, resilience (timeouts,
 * budgeted retries, outlier ejection) and a span pair plus metrics per request. Lifecycle and
 * Toxiproxy-compatible shape are TcpProxy's; the per-request work is in forward.ts.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { bindServer, parseHostPort, parseUpstreams } from '../address.js';
import { badRequest } from '../errors.js';
import type { MeshProxy, ProxyJson, ProxyPatch } from '../mesh-proxy.js';
import type { LookupAll } from '../caller-resolver.js';
import { describeIssues, type Toxic, type ToxicCollection } from '../toxic-collection.js';
import type { ToxicCatalog } from '../toxics/catalog.js';
import { BufferBudget } from './body.js';
import { Cancel } from './cancel.js';
import { CallerConnection, type FastLane } from './fast/caller-connection.js';
import { UpstreamPool } from './fast/upstream-pool.js';
import { ANSWER_LINGER_MS } from './first-head.js';
import { answer } from './faults.js';
import { forwardRequest, forwardUpgrade, type ForwardContext } from './forward.js';
import { namedHost, type HostRouter } from './host-router.js';
import { HttpToxicCollection } from './http-toxics.js';
import { createMeshToxicCatalog } from './message-toxics.js';
import { ReplicaSet } from './replicas.js';
import { defaultResilience, resilienceSchema, resilienceToJson, resolveResilience, RetryBudget, type ResilienceSettings } from './resilience.js';
import { noTelemetry, type MeshTelemetry } from './telemetry/recorder.js';
import { answerUnresolved } from './unresolved.js';
import { UpstreamResolver } from './upstream-resolver.js';

/** Default bound on a request body held in memory for a retry or a duplicate. */
export const DEFAULT_MAX_BODY_BUFFER = 1024 * 1024;

/** Default bound on the bytes of request bodies one proxy holds in memory, all requests together. */
export const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/** Default bound on duplicates (`http_duplicate`) in flight per proxy. */
export const DEFAULT_MAX_DUPLICATES_IN_FLIGHT = 64;

/** How long a duplicate may take when the resilience settings give no attempt timeout. */
export const DEFAULT_DUPLICATE_TIMEOUT_MS = 30_000;

/** Bounds on the proxy's own server (the callers' side). */
export interface HttpServerLimits {
  /** Caller connections at most (on a shared port, this service's); past it new ones are closed at once. */
  maxConnections: number;
  /** A caller must send its request head within this. */
  headersTimeoutMs: number;
  /** A caller must send its whole request (head and body) within this; a request the proxy holds on purpose is exempt. 0 for none. */
  requestTimeoutMs: number;
  /** A caller's body that stalls this long while the proxy reads it is given up (408); 0 for never. */
  requestBodyIdleTimeoutMs: number;
  /** How often the server checks the head and request timeouts. */
  connectionsCheckingIntervalMs: number;
  /** How long a connection answered 503 (no upstream resolves yet) may stay open for its caller to read the answer. */
  answerLingerMs: number;
}

/** The server bounds unless given: 10,000 connections, 60 s for a head, 5 min for a request, 60 s of body silence, 5 s of linger. */
export const DEFAULT_SERVER_LIMITS: Readonly<HttpServerLimits> = Object.freeze({
  maxConnections: 10_000,
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  requestBodyIdleTimeoutMs: 60_000,
  connectionsCheckingIntervalMs: 30_000,
  answerLingerMs: ANSWER_LINGER_MS,
});

/** A port several services share (host-router.ts): the proxy takes the connections whose Host is one of `names`. */
export interface SharedHttpPort {
  router: HostRouter;
  names: readonly string[];
}

/** How an HTTP proxy is made. */
export interface HttpProxyOptions {
  name: string;
  /** The service it fronts, shown in its JSON. */
  service?: string | undefined;
  /** Listen on a shared port instead of its own: `listen` is then the router's. */
  sharedPort?: SharedHttpPort | undefined;
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  /** One replica `host:port`, or a comma-separated list. */
  upstream: string;
  /** Toxic types; only its message-level ones are accepted (its connection toxics are refused by name). The mesh catalog unless given. */
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
  /** Bytes of request bodies held for replays, all requests together; past it bodies stream once. */
  maxBufferedBytes?: number;
  /** Duplicates in flight at most; past it a duplicate is skipped and counted. */
  maxDuplicatesInFlight?: number;
  /** How long a duplicate may take when the resilience settings give no attempt timeout. */
  duplicateTimeoutMs?: number;
  /** Bounds on the callers' side; each defaults to DEFAULT_SERVER_LIMITS. */
  limits?: Partial<HttpServerLimits>;
  /** Resolves upstream names to every address; `dns.promises.lookup(…, { all: true })` unless given. */
  lookup?: LookupAll;
  /** Milliseconds between two resolutions of the upstream names. */
  upstreamRefreshMs?: number;
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
  /** Duplicates skipped because too many were in flight. */
  duplicatesSkipped: number;
  duplicatesInFlight: number;
  /** Requests sent again after a reused upstream socket turned out closed (charged to the budget). */
  staleResends: number;
  /** Requests a message fault changed (abort, drop, duplicate, delay). */
  faulted: number;
  /** Attempts that failed with an error (connect, reset, timeout). */
  upstreamErrors: number;
  upgrades: number;
  /** Bytes of request bodies held in memory now. */
  bufferedBytes: number;
  /** Bodies streamed once (no replay) because the proxy's buffer budget was spent. */
  bufferBudgetRefused: number;
  replicas: { address: string; ejected: boolean; ejections: number; consecutiveFailures: number }[];
}

/** Mutable counters shared with forward.ts. */
export interface HttpCounters {
  requests: number;
  active: number;
  attempts: number;
  retries: number;
  duplicates: number;
  duplicatesSkipped: number;
  duplicatesInFlight: number;
  staleResends: number;
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
  readonly service: string | undefined;
  private sharedPort: SharedHttpPort | undefined;
  private listenAddress: string;
  private upstreamAddress: string;
  private server: Server | undefined;
  private readonly context: ForwardContext;
  private readonly upgraded = new Set<Socket>();
  /**
   * Every caller connection admitted, until it closes, whichever path holds it: the fast lane,
   * Node's parser, or neither (waiting for the upstream to resolve, or answered 503 and lingering).
   * Node's closeAllConnections() knows only the second kind, and its server's close() waits for the
   * rest; on a shared port, this is also what the service's connection cap counts.
   */
  private readonly callers = new Set<Socket>();
  private readonly pool: UpstreamPool;
  private readonly inFlight = new Set<ServerResponse>();
  private readonly limits: HttpServerLimits;
  private readonly resolverOptions: { lookup?: LookupAll | undefined; intervalMs?: number | undefined };
  private resolver: UpstreamResolver;
  /** Starts the fast lane on a caller connection, replaying `buffered` first; set while enabled. */
  private startLane: ((socket: Socket, buffered: Buffer | undefined) => void) | undefined;

  constructor(options: HttpProxyOptions) {
    parseHostPort(options.listen, 'listen');
    this.name = options.name;
    this.service = options.service;
    this.sharedPort = options.sharedPort;
    this.listenAddress = options.listen;
    this.upstreamAddress = options.upstream;
    this.toxics = new HttpToxicCollection(options.catalog ?? createMeshToxicCatalog());
    const resilience = options.resilience ?? defaultResilience();
    const random = options.random ?? Math.random;
    const releases = new Map<string, Cancel>();
    const counters: HttpCounters = {
      requests: 0, active: 0, attempts: 0, retries: 0, duplicates: 0, duplicatesSkipped: 0, duplicatesInFlight: 0, staleResends: 0, faulted: 0, upstreamErrors: 0, upgrades: 0,
    };
    this.limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
    this.resolverOptions = { lookup: options.lookup, intervalMs: options.upstreamRefreshMs };
    const targets = parseUpstreams(options.upstream, 'upstream');
    const replicas = new ReplicaSet(targets, resilience.ejection);
    this.resolver = new UpstreamResolver(targets, replicas, this.resolverOptions);
    this.pool = new UpstreamPool(options.maxSocketsPerReplica ?? 256, 64);
    this.context = {
      resilience,
      replicas,
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
      bodyBudget: new BufferBudget(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES),
      maxDuplicatesInFlight: options.maxDuplicatesInFlight ?? DEFAULT_MAX_DUPLICATES_IN_FLIGHT,
      duplicateTimeoutMs: options.duplicateTimeoutMs ?? DEFAULT_DUPLICATE_TIMEOUT_MS,
      requestBodyIdleTimeoutMs: this.limits.requestBodyIdleTimeoutMs,
      holding: new WeakSet(),
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
    options.sharedPort?.router.register(options.sharedPort.names, this);
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

  /** The listen address; once enabled, the address really bound (a shared port's, when on one). */
  get listen(): string {
    return this.sharedPort?.router.listen ?? this.listenAddress;
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
    return {
      name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.enabled, kind: 'http', resilience: resilienceToJson(this.context.resilience),
      ...(this.service !== undefined && { service: this.service }),
    };
  }

  /** Starts listening (on a shared port: taking its connections). A MeshError (500) when the address cannot be bound. */
  async enable(): Promise<void> {
    if (this.server) return;
    parseHostPort(this.listen, 'listen'); // a bad address fails before the resolver starts
    // Not awaited (see UpstreamResolver.start): the proxy, and the process's API and healthcheck after
    // it, must not wait for DNS to give up on names whose replicas do not exist yet.
    this.resolver.start();
    const limits = this.limits;
    const server = http.createServer(
      {
        keepAlive: true,
        noDelay: true,
        keepAliveTimeout: 65_000,
        // The request timeout covers receiving a request (head and body), never waiting for its
        // answer: a request held by an http_drop hang is complete, or exempt (clientError below).
        headersTimeout: limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
      },
      (request, response) => this.onRequest(request, response),
    );
    server.maxConnections = limits.maxConnections;
    this.pool.open();
    this.takeConnections(server);
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(request, socket, head));
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.onClientError(error, socket));
    if (this.sharedPort) {
      // The server never listens: the router gives it connections. Its 'listening' event is what starts
      // node:http's connection tracking (head and request timeouts, closeAllConnections).
      server.emit('listening');
    } else this.listenAddress = await bindServer(server, this.listenAddress);
    if (this.context.closing.cancelled) this.context.closing = new Cancel();
    this.server = server;
  }

  /** Stops listening and closes every connection, in-flight requests and upgraded sockets included. */
  async disable(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.resolver.close();
    this.context.closing.cancel();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of this.callers) socket.destroy();
    this.pool.close();
    for (const response of this.inFlight) response.socket?.destroy();
    for (const socket of this.upgraded) socket.destroy();
    await closed;
  }

  /** Toxiproxy's update rules (a new listen or upstream restarts the proxy), plus new resilience settings applied live. */
  async update(patch: ProxyPatch): Promise<void> {
    const listen = patch.listen ?? this.listen;
    const upstream = patch.upstream ?? this.upstreamAddress;
    const enabled = patch.enabled ?? this.enabled;
    parseHostPort(listen, 'listen');
    const targets = parseUpstreams(upstream, 'upstream');
    const resilience = patch.resilience === undefined ? undefined : parseResilience(patch.resilience);
    if (resilience) this.configure(resilience);
    if (listen !== this.listen || upstream !== this.upstreamAddress) {
      await this.disable();
      // A new address takes the proxy off its shared port: it listens on its own from now on.
      if (listen !== this.listen) this.leaveSharedPort();
      this.listenAddress = listen;
      this.upstreamAddress = upstream;
      this.context.replicas = new ReplicaSet(targets, this.context.resilience.ejection);
      this.resolver = new UpstreamResolver(targets, this.context.replicas, this.resolverOptions);
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

  /** Resolves the upstream names again now (it also happens every `upstreamRefreshMs` while enabled). */
  refreshUpstreams(): Promise<void> {
    return this.resolver.refresh();
  }

  /** Counters and replica health. */
  stats(): HttpProxyStats {
    const replicas = this.context.replicas;
    return {
      ...this.context.counters,
      budgetRefused: this.context.budget.refused,
      bufferedBytes: this.context.bodyBudget.used,
      bufferBudgetRefused: this.context.bodyBudget.refused,
      replicas: replicas.replicas.map((replica) => ({
        address: replica.address,
        ejected: replicas.isEjected(replica),
        ejections: replica.ejections,
        consecutiveFailures: replica.consecutiveFailures,
      })),
    };
  }

  /**
   * Takes a caller connection accepted elsewhere (a shared port's router) as if this proxy's server
   * had accepted it; `buffered` are the bytes already read from it, from its first. A disabled proxy
   * destroys it: the nearest thing to a refused connection on a port that stays open for others.
   */
  acceptConnection(socket: Socket, buffered: Buffer | undefined): void {
    // The router's server caps the port as a whole; this service's own cap applies as its own server's would.
    if (!this.server || socket.destroyed || this.callers.size >= this.limits.maxConnections) {
      socket.destroy();
      return;
    }
    this.admit(socket, buffered);
  }

  /** Disables the proxy, removes its toxics and closes its upstream connections. */
  async close(): Promise<void> {
    await this.disable();
    this.leaveSharedPort();
    this.toxics.reset();
    this.context.agent.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Puts the fast lane (fast/) in front of Node's HTTP parser: the server's connections go to it
   * first, and it hands a connection to Node's own listener only when a request needs the Node path
   * (faults, upgrades, streamed bodies). The server still listens, tracks and times out the
   * connections handed to it as it would any other.
   */
  private takeConnections(server: Server): void {
    const [nodeListener] = server.listeners('connection') as ((socket: Socket) => void)[];
    if (!nodeListener) throw new Error('the HTTP server has no connection listener to hand connections to');
    server.removeAllListeners('connection');
    const limits = this.limits;
    const lane: FastLane = {
      context: this.context,
      pool: this.pool,
      keepAliveTimeoutMs: 65_000,
      // As the Node server's: the head within the request timeout too.
      headersTimeoutMs: limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs,
      requestTimeoutMs: limits.requestTimeoutMs,
      // On a shared port, a request for another service's host goes to the Node path, which answers 421.
      servesHost: (host) => !this.sharedPort || this.sharedPort.router.serves(host, this),
      handOff: (socket, buffered) => {
        nodeListener.call(server, socket);
        if (buffered) socket.emit('data', buffered);
        socket.resume();
      },
    };
    this.startLane = (socket, buffered) => {
      new CallerConnection(socket, lane);
      if (buffered) socket.emit('data', buffered);
      if (socket.isPaused()) socket.resume();
    };
    server.on('connection', (socket: Socket) => this.admit(socket, undefined));
  }

  /**
   * A new caller connection goes to the fast lane once the upstream has an address. Until a name
   * has resolved (the proxy started before its replicas), it is asked again first (a fraction of a
   * second is cached), then the caller gets a 503 that says so, instead of a 502 per request from
   * a connect that cannot succeed.
   */
  private admit(socket: Socket, buffered: Buffer | undefined): void {
    this.callers.add(socket);
    socket.once('close', () => this.callers.delete(socket));
    if (this.resolver.ready) {
      this.startLane?.(socket, buffered);
      return;
    }
    socket.pause();
    socket.on('error', () => undefined); // followed by close
    void this.resolver.resolveSoon().then(() => {
      if (socket.destroyed) return;
      if (!this.server || !this.startLane) socket.destroy();
      else if (this.resolver.ready) this.startLane(socket, buffered);
      else answerUnresolved(socket, buffered, { service: this.service ?? this.name, upstream: this.upstreamAddress, headersTimeoutMs: this.limits.headersTimeoutMs, lingerMs: this.limits.answerLingerMs });
    });
  }

  private leaveSharedPort(): void {
    this.sharedPort?.router.unregister(this);
    this.sharedPort = undefined;
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    if (this.sharedPort && !this.sharedPort.router.serves(namedHost(request.url, request.headers.host), this)) {
      answer(response, 421, `mesh: this connection is ${this.service ?? this.name}'s; a request for another host needs a connection of its own`, true);
      return;
    }
    this.inFlight.add(response);
    response.once('close', () => this.inFlight.delete(response));
    forwardRequest(this.context, request, response);
  }

  /**
   * A caller's protocol error or timeout, answered the way Node would (408 for a request timeout,
   * 431 for a head too large, else 400) when nothing was written on the connection yet. A request
   * the proxy holds on purpose (an upstream delay or drop hang) keeps its connection: its caller is
   * not the slow one.
   */
  private onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && this.context.holding.has(socket)) return;
    if (socket.writable && socket.bytesWritten === 0) {
      const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      socket.destroySoon();
    } else socket.destroy();
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
