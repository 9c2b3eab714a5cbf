/**
 * Who is calling: a mesh proxy knows a caller only by its address, so it resolves the project's
 * service names the way the caller's peers do (Docker's DNS on the networks it shares with them)
 * and maps each address back to its service. A meshed service X answers to `X` (its proxy) and
 * `X-upstream` (its replicas, which are the ones that call out); both are looked up. Refreshed
 * every few seconds, since replicas come and go with new addresses.
 */
import { promises as dns } from 'node:dns';

/** `dns.promises.lookup(host, { all: true })`, or a stand-in for tests. */
export type LookupAll = (host: string) => Promise<{ address: string }[]>;

/** Suffix of the alias a meshed service's replicas answer to (deploy/mesh.ts upstreamAlias). */
export const UPSTREAM_SUFFIX = '-upstream';

export interface CallerResolverOptions {
  /** The project's service names. */
  services: readonly string[];
  /** Milliseconds between refreshes; 5 s by default. */
  intervalMs?: number;
  lookup?: LookupAll;
}

const defaultLookup: LookupAll = (host) => dns.lookup(host, { all: true });

/** Address → service, refreshed in the background; dispose it (or `close()`) to stop. */
export class CallerResolver implements Disposable {
  private byAddress = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly lookup: LookupAll;

  constructor(private readonly options: CallerResolverOptions) {
    this.lookup = options.lookup ?? defaultLookup;
  }

  /** The service at `address` (IPv4-mapped IPv6 accepted), or undefined when none is known there. */
  resolve(address: string): string | undefined {
    return this.byAddress.get(address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address);
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
  }
}

/**
 * Resolves until every host answers: a proxy starts forwarding only once its upstream exists.
 * Calls `onWait` once, with the hosts still missing, when the first attempt fails.
 */
export async function waitForHosts(hosts: readonly string[], options: { lookup?: LookupAll; intervalMs?: number; signal?: AbortSignal; onWait?: (missing: string[]) => void } = {}): Promise<void> {
  const lookup = options.lookup ?? defaultLookup;
  let pending = [...new Set(hosts)];
  let told = false;
  for (;;) {
    const results = await Promise.all(pending.map((host) => lookup(host).then((answers) => answers.length > 0, () => false)));
    pending = pending.filter((_, index) => !results[index]);
    if (pending.length === 0) return;
    options.signal?.throwIfAborted();
    if (!told) options.onWait?.(pending);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
