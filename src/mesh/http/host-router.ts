/**
 * One HTTP port shared by several services of a shared mesh proxy process. The container answers to
 * every service's name, so they all resolve to one address: what tells them apart on a port they
 * share is the Host a request names. The router reads each new connection's first request head,
 * matches its host against each service's names, and hands the socket with the bytes read to that
 * service's proxy, which serves it as if its own server had accepted it.
 *
 * A connection stays with the service its first request named. HTTP clients pool connections per
 * host name (and port), so a kept-alive connection carries requests for one host; a later request
 * on it that names another service is answered 421 Misdirected Request and the connection closed
 * (`serves`), so a client that pools by address retries on a new connection, routed afresh.
 */
import net, { type Server, type Socket } from 'node:net';
import { bindServer, parseHostPort } from '../address.js';
import { MeshError } from '../errors.js';
import { ANSWER_LINGER_MS, answerAndClose, isHeadRequest, readFirstHead } from './first-head.js';

/** A service's proxy, as the router sees it. */
export interface RoutedProxy {
  /** The service it fronts, for messages. */
  readonly service: string | undefined;
  /** Takes a caller connection whose first bytes were read already (a disabled proxy destroys it). */
  acceptConnection(socket: Socket, buffered: Buffer | undefined): void;
}

/** How a router is made. */
export interface HostRouterOptions {
  /** `host:port` the shared port listens on (port 0 picks one). */
  listen: string;
  /** A caller must send its first request head within this; 60 s unless given. */
  headersTimeoutMs?: number;
  /** Caller connections at most, every service of the port together; 10,000 unless given. */
  maxConnections?: number;
  /** How long a connection answered here (421, 400, …) may stay open for its caller to read the answer; 5 s unless given. */
  lingerMs?: number;
}

/** The name a Host value (or an absolute-form target's authority) names: no port, lower case, no trailing dot. */
export function hostnameOf(value: string): string {
  let host = value.trim().toLowerCase();
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close < 0 ? host : host.slice(0, close + 1);
  }
  host = host.replace(/:\d*$/, '');
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ ([!-~]+) HTTP\/\d\.\d$/;
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):([\t\x20-\x7e\x80-\xff]*)$/;
const ABSOLUTE_TARGET = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;

/** The host a request head names; `missing` without one, `invalid` for a malformed head or two Host fields. */
export function requestedHost(head: string): { host: string } | { missing: true } | { invalid: true } {
  const lines = head.split('\r\n');
  const target = REQUEST_LINE.exec(lines[0] ?? '')?.[1];
  if (target === undefined) return { invalid: true };
  let host: string | undefined;
  for (const line of lines.slice(1)) {
    const field = FIELD_LINE.exec(line);
    if (!field) return { invalid: true };
    if (field[1]?.toLowerCase() !== 'host') continue;
    if (host !== undefined) return { invalid: true }; // RFC 9112 §3.2: more than one Host is a 400
    host = field[2] ?? '';
  }
  const named = hostnameOf(namedHost(target, host) ?? '');
  return named === '' ? { missing: true } : { host: named };
}

/** The host a request names: an absolute-form target's authority, which wins over Host (RFC 9112 §3.2.2), else Host. */
export function namedHost(target: string | undefined, host: string | undefined): string | undefined {
  return (target !== undefined && !target.startsWith('/') ? ABSOLUTE_TARGET.exec(target)?.[1] : undefined) ?? host;
}

/** A listening socket whose connections go to the proxy of the service their Host names. */
export class HostRouter {
  private readonly byName = new Map<string, RoutedProxy>();
  private readonly namesOf = new Map<RoutedProxy, readonly string[]>();
  /**
   * Connections not handed to a proxy: their first head being read, or answered here and lingering
   * for the caller to read the answer. Destroyed with the router, whose server's close() would
   * otherwise wait for them (up to the headers timeout plus the linger).
   */
  private readonly unrouted = new Set<Socket>();
  private listenAddress: string;
  private server: Server | undefined;
  private readonly headersTimeoutMs: number;
  private readonly maxConnections: number;
  private readonly lingerMs: number;

  constructor(options: HostRouterOptions) {
    parseHostPort(options.listen, 'listen');
    this.listenAddress = options.listen;
    this.headersTimeoutMs = options.headersTimeoutMs ?? 60_000;
    this.maxConnections = options.maxConnections ?? 10_000;
    this.lingerMs = options.lingerMs ?? ANSWER_LINGER_MS;
  }

  /** The listen address; once started, the address really bound. */
  get listen(): string {
    return this.listenAddress;
  }

  /** Every name served here, in registration order. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** Routes requests naming any of `names` to `proxy`. A MeshError (400) when a name is another proxy's. */
  register(names: readonly string[], proxy: RoutedProxy): void {
    const normalised = names.map(hostnameOf);
    for (const name of normalised) {
      const owner = this.byName.get(name);
      if (owner && owner !== proxy) throw new MeshError('MESH_BAD_REQUEST', `host "${name}" on ${this.listen} is served by "${owner.service ?? 'another proxy'}" already`, 400);
    }
    this.unregister(proxy);
    for (const name of normalised) this.byName.set(name, proxy);
    this.namesOf.set(proxy, normalised);
  }

  /**
   * Whether a request on a connection `proxy` holds names one of its hosts (`host`: an absolute-form
   * target's authority, else the Host field). A kept-alive connection is routed by its first
   * request; a later one that names another service must not be served by this one.
   */
  serves(host: string | undefined, proxy: RoutedProxy): boolean {
    return host !== undefined && this.byName.get(hostnameOf(host)) === proxy;
  }

  /** Stops routing to `proxy`; requests naming its hosts are then misdirected (421). */
  unregister(proxy: RoutedProxy): void {
    for (const name of this.namesOf.get(proxy) ?? []) this.byName.delete(name);
    this.namesOf.delete(proxy);
  }

  /** Starts listening. A MeshError (500) when the address cannot be bound. */
  async start(): Promise<void> {
    if (this.server) return;
    // As node:http's own server: half-open allowed (an HTTP/1.0 body may end with the caller's FIN), no Nagle, TCP keep-alive.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true }, (socket) => void this.route(socket));
    server.maxConnections = this.maxConnections;
    this.listenAddress = await bindServer(server, this.listenAddress);
    this.server = server;
  }

  /** Stops listening and closes the connections not handed to a proxy; routed ones are their proxies' to close. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.unrouted) socket.destroy();
    await closed;
  }

  private async route(socket: Socket): Promise<void> {
    this.unrouted.add(socket);
    socket.once('close', () => this.unrouted.delete(socket));
    const read = await readFirstHead(socket, undefined, this.headersTimeoutMs);
    if ('closed' in read) return void socket.destroy();
    const answer = (status: number, text: string, head = false): void => answerAndClose(socket, status, text, head, this.lingerMs);
    if ('status' in read) return answer(read.status, `mesh: ${read.status === 408 ? 'no request head in time' : 'request head too large'}`);
    const head = isHeadRequest(read.head);
    const asked = requestedHost(read.head);
    if ('invalid' in asked) return answer(400, 'mesh: malformed request head', head);
    const serves = `port ${parseHostPort(this.listen, 'listen').port} serves ${this.names.join(', ') || 'no host yet'}`;
    if ('missing' in asked) return answer(421, `mesh: the request names no host (Host field); ${serves}`, head);
    const proxy = this.byName.get(asked.host);
    if (!proxy) return answer(421, `mesh: no service here answers to host "${asked.host}"; ${serves}`, head);
    this.unrouted.delete(socket);
    proxy.acceptConnection(socket, read.buffered);
  }
}
