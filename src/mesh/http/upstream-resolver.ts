/**
 * Upstream names to replicas. Deployed, a proxy's upstream is one DNS alias (`S-upstream`) that
 * answers with every replica's address, so the proxy resolves each name to all its addresses and
 * balances and ejects per address; refreshed every few seconds, since replicas come and go. A
 * literal IP is a replica as it is. A name that fails to resolve keeps its last addresses (or, never
 * resolved, stays a name for the connection to resolve).
 *
 * A proxy starts before its replicas exist (`up` creates the shared proxy first), so until some name
 * has resolved the resolver is not `ready`, and each new caller connection asks again (`resolveSoon`)
 * rather than waiting for the next refresh: a replica that appears is used within a fraction of a
 * second. Failed answers are cached briefly, so a burst of callers costs one lookup, not one each.
 */
import { isIP } from 'node:net';
import { promises as dns } from 'node:dns';
import type { HostPort } from '../address.js';
import type { LookupAll } from '../caller-resolver.js';
import type { ReplicaSet } from './replicas.js';

const defaultLookup: LookupAll = (host) => dns.lookup(host, { all: true });

/** Default milliseconds between two resolutions of the upstream names. */
export const DEFAULT_UPSTREAM_REFRESH_MS = 5_000;

/** How long a resolution that found nothing is trusted before a new caller connection asks again. */
export const UNRESOLVED_RETRY_MS = 250;

/** How upstream names are resolved. */
export interface UpstreamResolverOptions {
  /** `dns.promises.lookup(host, { all: true })` unless given. */
  lookup?: LookupAll | undefined;
  /** 5 s unless given. */
  intervalMs?: number | undefined;
}

/** Keeps a ReplicaSet in step with what its upstream names resolve to; `close()` to stop. */
export class UpstreamResolver {
  private readonly lookup: LookupAll;
  private readonly last = new Map<string, HostPort[]>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  /** `performance.now()` when the last resolution finished; -Infinity before the first. */
  private resolvedAt = -Infinity;
  /** Some target is an IP literal: there is always an address to send to. */
  private readonly hasAddress: boolean;

  constructor(
    private readonly targets: readonly HostPort[],
    private readonly replicas: ReplicaSet,
    private readonly options: UpstreamResolverOptions = {},
  ) {
    this.lookup = options.lookup ?? defaultLookup;
    this.hasAddress = targets.some((target) => !isName(target.host));
  }

  /** Whether requests can go upstream: a target is an address, or a name has resolved at least once (its last answer is kept). */
  get ready(): boolean {
    return this.hasAddress || this.last.size > 0;
  }

  /**
   * Resolves now, unless a resolution is under way (joined) or the last one finished less than
   * UNRESOLVED_RETRY_MS ago: what a new caller connection does while the proxy is not `ready`.
   */
  resolveSoon(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (performance.now() - this.resolvedAt < UNRESOLVED_RETRY_MS) return Promise.resolve();
    return this.refresh();
  }

  /** Whether any target is a name (else there is nothing to resolve). */
  get hasNames(): boolean {
    return this.targets.some((target) => isName(target.host));
  }

  /** Resolves every name once and replaces the replica list. */
  refresh(): Promise<void> {
    this.refreshing ??= this.resolveAll().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * Resolves now, then every `intervalMs`, without keeping the process alive. Nothing to do without
   * names. It does not wait for the first answer: a name no replica has yet may take DNS seconds to
   * fail, and a caller connection that needs an address waits for the resolution under way anyway.
   */
  start(): void {
    if (!this.hasNames) return;
    void this.refresh();
    this.timer ??= setInterval(() => void this.refresh(), this.options.intervalMs ?? DEFAULT_UPSTREAM_REFRESH_MS).unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async resolveAll(): Promise<void> {
    const resolved = await Promise.all(this.targets.map((target) => this.resolve(target)));
    this.replicas.replace(resolved.flat());
    this.resolvedAt = performance.now();
  }

  private async resolve(target: HostPort): Promise<HostPort[]> {
    if (!isName(target.host)) return [target];
    const key = `${target.host}:${target.port}`;
    // A lookup that throws, at once or later, is a name that does not resolve now (never an unhandled rejection).
    const answers = await Promise.resolve()
      .then(() => this.lookup(target.host))
      .catch(() => []);
    if (answers.length === 0) return this.last.get(key) ?? [target];
    const addresses = answers.map(({ address }) => ({ host: address, port: target.port }));
    this.last.set(key, addresses);
    return addresses;
  }
}

/** A host that DNS would resolve: not an IP literal, not empty (every interface, i.e. loopback). */
function isName(host: string): boolean {
  return host !== '' && isIP(host) === 0;
}
