/**
 * Who is calling: a mesh proxy knows a caller only by its address, so it resolves the project's
 * service names the way the caller's peers do (Docker's DNS on the networks it shares with them)
 * and maps each address back to its service. A meshed service X answers to `X` (its proxy) and
 * `X-upstream` (its replicas, which are the ones that call out); both are looked up. Refreshed
 * every few seconds, since replicas come and go with new addresses.
 *
 * A caller at an address none of those names gave (a service added after the proxy started) is
 * asked of Docker's DNS the other way round: a PTR lookup answers `<container>.<network>`, and
 * Flotilla names containers `<project>-<service>-<replica>`. So the list of names is a head start,
 * not something every proxy must be recreated for when a service is added.
 */
import { promises as dns } from 'node:dns';

/** `dns.promises.lookup(host, { all: true })`, or a stand-in for tests. */
export type LookupAll = (host: string) => Promise<{ address: string }[]>;

/** `dns.promises.reverse(address)`, or a stand-in for tests. */
export type ReverseLookup = (address: string) => Promise<string[]>;

/** Suffix of the alias a meshed service's replicas answer to (deploy/mesh.ts upstreamAlias). */
export const UPSTREAM_SUFFIX = '-upstream';

export interface CallerResolverOptions {
  /** The project's service names. */
  services: readonly string[];
  /** The Compose project: with it, unknown addresses are looked up in reverse (see above). */
  project?: string;
  reverse?: ReverseLookup;
  /** Milliseconds between refreshes; 5 s by default. */
  intervalMs?: number;
  lookup?: LookupAll;
}

const defaultLookup: LookupAll = (host) => dns.lookup(host, { all: true });
const defaultReverse: ReverseLookup = (address) => dns.reverse(address);

/** How long an address that named no container of the project stays unknown before it is asked again. */
const UNKNOWN_RETRY_MS = 30_000;

/** The service of a container name `<project>-<service>-<replica>` (a PTR answer has `.<network>` after it), else undefined. */
export function serviceOfContainerName(name: string, project: string): string | undefined {
  const prefix = `${project}-`;
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(.+?)-(?:mesh-)?\d+(?:\.|$)/.exec(name.slice(prefix.length));
  return match?.[1];
}

/** Address → service, refreshed in the background; dispose it (or `close()`) to stop. */
export class CallerResolver implements Disposable {
  private byAddress = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly lookup: LookupAll;
  /** Addresses found by reverse lookup, and when an unknown one may be asked again. */
  private readonly reversed = new Map<string, string>();
  private readonly askedAt = new Map<string, number>();

  constructor(private readonly options: CallerResolverOptions) {
    this.lookup = options.lookup ?? defaultLookup;
  }

  /**
   * The service at `address` (IPv4-mapped IPv6 accepted), or undefined when none is known there
   * yet; an unknown address is then looked up in reverse in the background, for the next request.
   */
  resolve(address: string): string | undefined {
    const ip = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
    const known = this.byAddress.get(ip) ?? this.reversed.get(ip);
    if (known === undefined && this.options.project !== undefined) this.askReverse(ip, this.options.project);
    return known;
  }

  private askReverse(ip: string, project: string): void {
    const now = Date.now();
    if (now - (this.askedAt.get(ip) ?? -Infinity) < UNKNOWN_RETRY_MS) return;
    this.askedAt.set(ip, now);
    (this.options.reverse ?? defaultReverse)(ip).then(
      (names) => {
        const service = names.map((name) => serviceOfContainerName(name, project)).find((found) => found !== undefined);
        if (service !== undefined) this.reversed.set(ip, service);
      },
      () => undefined,
    );
  }

  /** Looks every name up once and replaces the map; a name that does not resolve (not started yet) is skipped. */
  refresh(): Promise<void> {
    this.refreshing ??= this.lookUpAll().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Refreshes now, then every `intervalMs`, without keeping the process alive. */
  async start(): Promise<this> {
    await this.refresh();
    this.timer ??= setInterval(() => void this.refresh(), this.options.intervalMs ?? 5_000).unref();
    return this;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private async lookUpAll(): Promise<void> {
    const names = this.options.services.flatMap((service) => [service, `${service}${UPSTREAM_SUFFIX}`]);
    const answers = await Promise.all(names.map((name) => this.lookup(name).catch(() => [])));
    const next = new Map<string, string>();
    names.forEach((name, index) => {
      const service = name.endsWith(UPSTREAM_SUFFIX) && this.options.services.includes(name.slice(0, -UPSTREAM_SUFFIX.length)) ? name.slice(0, -UPSTREAM_SUFFIX.length) : name;
      for (const { address } of answers[index] ?? []) {
        // A replica's own address (X-upstream) wins over a name that merely reaches it.
        if (!next.has(address) || name.endsWith(UPSTREAM_SUFFIX)) next.set(address, service);
      }
    });
    this.byAddress = next;
    // Addresses the names now give are no longer guesses; others may have gone to new containers.
    this.reversed.clear();
    this.askedAt.clear();
  }
}
