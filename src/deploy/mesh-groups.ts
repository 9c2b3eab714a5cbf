/**
 * Which meshed services share a proxy container, and what that container is given: pure functions
 * of the stack and of what is known of the services' images (their EXPOSE ports and version).
 *
 * Services share a proxy when they are on the same networks (a caller can reach through the proxy
 * only what it could reach without it) and report to the same collector. Within that, one proxy
 * listens once per port: TCP connections carry no name, so a TCP port belongs to one service of the
 * proxy; an HTTP port may be shared, the proxy telling services apart by the Host they call. A
 * service whose ports or names clash with a proxy's goes to another (`meshGroups`).
 */
import { createHash } from 'node:crypto';
import { stableStringify } from '../core/stable-json.js';
import { meshSettingsOf } from '../spec/mesh.js';
import type { MeshProtocol, MeshResilience, ServiceSpec, Stack } from '../spec/types.js';
import { checkedMeshPorts, declaredMeshPorts, MESH_API_PORT, meshProxyName, upstreamAlias, type MeshPort } from './mesh.js';
import { telemetryEndpoint } from './telemetry-env.js';

/** What is known of a meshed service's image; undefined while it is not there (to be built or pulled). */
export interface MeshImageFacts {
  exposedPorts: readonly string[];
  /** From its image's labels; `unknown` when it has none. */
  version: string;
}

/** One proxy container and the meshed services it fronts (in name order). */
export interface MeshGroup {
  /** Its container name, `<project>-flotilla-mesh-<n>`. */
  name: string;
  services: string[];
}

/** What the proxy container is given as FLOTILLA_MESH_CONFIG (src/mesh/proxy-main.ts `meshProxyConfigSchema`). */
export interface MeshProxyConfigJson {
  host: string;
  services: MeshServiceConfigJson[];
  api: { host: string; port: number };
  collector?: string;
  /** The project's services: the proxy resolves `X` and `X-upstream` to know callers by their address. */
  callerServices: string[];
  /** Callers at other addresses are found by reverse lookup of `<project>-<service>-<n>`. */
  project: string;
}

/** One service of a proxy's config. */
export interface MeshServiceConfigJson {
  service: string;
  version: string;
  /** The names callers reach it by: the Host an HTTP request must name on a port the service shares. */
  names: string[];
  /** Traces a second the proxy starts for it; the proxy's default when absent. */
  tracesPerSecond?: number;
  listeners: { port: number; kind: MeshProtocol; upstreams: string[]; name: string; resilience?: MeshResilience }[];
}

/** The proxy containers there are now: container name → the services it fronts (its label). */
export type MeshLayout = ReadonlyMap<string, readonly string[]>;

interface Slot {
  name: string;
  key: string;
  services: string[];
  ports: Map<number, MeshProtocol>;
  /** Every name its services answer to: two services of one proxy cannot share one. */
  hosts: Set<string>;
}

interface Candidate {
  name: string;
  key: string;
  ports: MeshPort[];
  hosts: string[];
}

/**
 * The proxy containers of the stack's meshed services. `factsOf` says what is known of a
 * service's image; `current` is the layout running now, kept as far as it still holds: a service
 * stays with its proxy while it fits there, so adding a service never moves the others (their
 * connections and faults would go with the old proxy). A new or moved service takes the first
 * proxy it fits, else a new one with the lowest free number.
 */
export function meshGroups(stack: Stack, factsOf: (service: string) => MeshImageFacts | undefined, current: MeshLayout = new Map()): MeshGroup[] {
  const candidates = new Map<string, Candidate>();
  for (const name of Object.keys(stack.services).sort()) {
    const service = stack.services[name] as ServiceSpec;
    if (!meshSettingsOf(stack, service)) continue;
    const networks = networksOf(stack, service);
    candidates.set(name, {
      name,
      key: stableStringify({ networks: networks.map(([network]) => network), collector: telemetryEndpoint(stack, service) ?? null }),
      ports: declaredMeshPorts(stack, service, factsOf(name)?.exposedPorts ?? []),
      hosts: [name, ...networks.flatMap(([, aliases]) => aliases)],
    });
  }
  const slots: Slot[] = [];
  const placed = new Set<string>();
  const place = (slot: Slot, candidate: Candidate): void => {
    slot.services.push(candidate.name);
    for (const { port, protocol } of candidate.ports) slot.ports.set(port, protocol);
    for (const host of candidate.hosts) slot.hosts.add(host);
    placed.add(candidate.name);
  };
  const open = (name: string, key: string): Slot => {
    const slot = { name, key, services: [], ports: new Map<number, MeshProtocol>(), hosts: new Set<string>() };
    slots.push(slot);
    return slot;
  };
  for (const [proxy, services] of [...current].sort(([a], [b]) => indexOf(a) - indexOf(b))) {
    let slot: Slot | undefined;
    for (const name of [...services].sort()) {
      const candidate = candidates.get(name);
      if (!candidate || placed.has(name)) continue;
      slot ??= open(proxy, candidate.key);
      if (slot.key === candidate.key && fits(slot, candidate)) place(slot, candidate);
    }
  }
  for (const candidate of candidates.values()) {
    if (placed.has(candidate.name)) continue;
    const slot = slots.find((one) => one.key === candidate.key && fits(one, candidate)) ?? open(meshProxyName(stack.name, freeIndex(slots)), candidate.key);
    place(slot, candidate);
  }
  return slots
    .filter((slot) => slot.services.length > 0)
    .sort((a, b) => indexOf(a.name) - indexOf(b.name))
    .map((slot) => ({ name: slot.name, services: [...slot.services].sort() }));
}

/** A proxy's number, from its name (`…-flotilla-mesh-<n>`). */
function indexOf(name: string): number {
  return Number(/-(\d+)$/.exec(name)?.[1] ?? Number.MAX_SAFE_INTEGER);
}

/** The lowest number no proxy has. */
function freeIndex(slots: readonly Slot[]): number {
  const taken = new Set(slots.map((slot) => indexOf(slot.name)));
  let index = 1;
  while (taken.has(index)) index++;
  return index;
}

/**
 * Whether a service can join a proxy: an HTTP port may be shared with HTTP ports of other
 * services, a TCP port only where it is free, and no name may be another service's there.
 */
function fits(slot: Slot, candidate: Candidate): boolean {
  if (candidate.hosts.some((host) => slot.hosts.has(host))) return false;
  return candidate.ports.every(({ port, protocol }) => {
    const other = slot.ports.get(port);
    return other === undefined || (other === 'http' && protocol === 'http');
  });
}

/** The group that fronts `service`, if it is meshed. */
export function groupOf(groups: readonly MeshGroup[], service: string): MeshGroup | undefined {
  return groups.find((group) => group.services.includes(service));
}

/** Each network a service is on (its Engine name), with the aliases the Compose file gives it there. */
export function networksOf(stack: Stack, service: ServiceSpec): [string, string[]][] {
  return Object.entries(service.networks)
    .map(([key, attachment]): [string, string[]] => [stack.networks[key]?.name ?? key, attachment.aliases])
    .sort(([a], [b]) => a.localeCompare(b));
}

/**
 * One service's part of its proxy's config. A service whose image is not known yet is given the
 * ports its Compose file declares; with none, it is left out until its image is there (callers of
 * it find no name, as without the mesh). With its image known, no port at all is an error that
 * says what to write.
 */
function serviceConfig(stack: Stack, service: ServiceSpec, facts: MeshImageFacts | undefined): MeshServiceConfigJson | undefined {
  const ports = facts ? checkedMeshPorts(stack, service, facts.exposedPorts) : declaredMeshPorts(stack, service, []);
  if (ports.length === 0) return undefined;
  const settings = meshSettingsOf(stack, service);
  return {
    service: service.name,
    version: facts?.version ?? 'unknown',
    names: [...new Set([service.name, ...networksOf(stack, service).flatMap(([, aliases]) => aliases)])],
    ...(settings?.tracesPerSecond !== undefined && { tracesPerSecond: settings.tracesPerSecond }),
    listeners: ports.map(({ port, protocol }: MeshPort) => ({
      port,
      kind: protocol,
      upstreams: [`${upstreamAlias(service.name)}:${port}`],
      // Listeners are named `S` when S has one port, else `S-<port>`: the names `flotilla fault` takes.
      name: ports.length === 1 ? service.name : `${service.name}-${port}`,
      ...(protocol === 'http' && settings?.resilience && { resilience: settings.resilience }),
    })),
  };
}

/** The proxy's config: the services of the group that can be proxied now, and where to send telemetry. */
export function meshProxyConfig(stack: Stack, group: MeshGroup, factsOf: (service: string) => MeshImageFacts | undefined): MeshProxyConfigJson {
  const services = group.services.map((name) => stack.services[name] as ServiceSpec);
  const collector = services[0] && telemetryEndpoint(stack, services[0]);
  return {
    host: '0.0.0.0',
    services: services.flatMap((service) => serviceConfig(stack, service, factsOf(service.name)) ?? []),
    api: { host: '0.0.0.0', port: MESH_API_PORT },
    ...(collector !== undefined && { collector }),
    callerServices: Object.keys(stack.services).sort(),
    project: stack.name,
  };
}

/**
 * The networks a proxy joins, each with the names it takes there: its services' names and
 * Compose aliases, on the networks each of them is on.
 */
export function meshProxyNetworks(stack: Stack, config: MeshProxyConfigJson): { name: string; aliases: string[] }[] {
  const networks = new Map<string, Set<string>>();
  for (const { service: name } of config.services) {
    const service = stack.services[name] as ServiceSpec;
    for (const [network, aliases] of networksOf(stack, service)) {
      const names = networks.get(network) ?? new Set<string>();
      for (const alias of [name, ...aliases]) names.add(alias);
      networks.set(network, names);
    }
  }
  return [...networks].map(([name, aliases]) => ({ name, aliases: [...aliases] }));
}

/**
 * The proxy's config hash: its config (services, listeners, resilience, collector, versions), the
 * networks and names it takes, and the proxy image. A change to any of them recreates the proxy,
 * and only the proxy: the replicas' hash covers just whether they are meshed (their alias). The
 * list of the project's services is left out: a proxy finds callers it was not told of by reverse
 * lookup, so adding a service elsewhere does not recreate the proxies.
 */
export function meshProxyHash(stack: Stack, config: MeshProxyConfigJson, meshImageTag: string): string {
  const { callerServices: _callers, ...rest } = config;
  return createHash('sha256')
    .update(stableStringify({ config: rest, networks: meshProxyNetworks(stack, config), image: meshImageTag }))
    .digest('hex')
    .slice(0, 16);
}
