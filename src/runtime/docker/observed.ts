/**
 * Pure mappings from the Engine's list and inspect answers to the contract's observed types.
 * List answers carry no health field, so health and exit code are read from the `Status` text
 * (`Up 5 seconds (healthy)`, `Exited (137) 2 minutes ago`): one list call per kind, however
 * many containers a project has.
 */
import type Dockerode from 'dockerode';
import type { ContainerState, HealthState, ImageInfo, NetworkAttachment, ObservedContainer, ObservedNetwork, ObservedVolume, PublishedPort } from '../driver.js';
import { Label } from '../labels.js';

const STATES: readonly ContainerState[] = ['created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing'];

/** A container from `GET /containers/json`. */
export function containerFromListing(info: Dockerode.ContainerInfo): ObservedContainer {
  const labels = info.Labels ?? {};
  const health = healthFromStatus(info.Status);
  return {
    ...identityFromLabels(labels),
    id: info.Id,
    name: (info.Names?.[0] ?? '').replace(/^\//, ''),
    imageId: info.ImageID,
    state: stateOf(info.State),
    ...(health && { health }),
    exitCode: exitCodeFromStatus(info.Status),
    labels,
    ports: portsFromListing(info.Ports ?? []),
  };
}

/** A container from `GET /containers/{id}/json`. */
export function containerFromInspect(info: Dockerode.ContainerInspectInfo): ObservedContainer {
  const labels = info.Config?.Labels ?? {};
  const health = healthOf(info.State.Health?.Status);
  const ports: PublishedPort[] = [];
  // Ports maps "80/tcp" to its bindings, or to null when the port is only exposed.
  for (const [key, bindings] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
    const [containerPort = '0', protocol = 'tcp'] = key.split('/');
    for (const binding of bindings ?? []) {
      ports.push({ hostIp: binding.HostIp, hostPort: Number(binding.HostPort), containerPort: Number(containerPort), protocol });
    }
  }
  return {
    ...identityFromLabels(labels),
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    imageId: info.Image,
    state: stateOf(info.State.Status),
    ...(health && { health }),
    exitCode: info.State.ExitCode,
    labels,
    ports,
  };
}

/**
 * The networks of an inspected container, sorted by name. The Engine lists the container's short id
 * among its aliases and adds it again on connect, so it is left out.
 */
export function attachmentsFromInspect(info: Pick<Dockerode.ContainerInspectInfo, 'Id' | 'NetworkSettings'>): NetworkAttachment[] {
  const shortId = info.Id.slice(0, 12);
  const networks = (info.NetworkSettings?.Networks ?? {}) as Record<string, { Aliases?: unknown; IPAMConfig?: unknown }>;
  return Object.entries(networks)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([network, endpoint]) => {
      const aliases = Array.isArray(endpoint.Aliases) ? endpoint.Aliases.filter((alias): alias is string => typeof alias === 'string' && alias !== shortId) : [];
      const ipam = (endpoint.IPAMConfig ?? {}) as { IPv4Address?: unknown; IPv6Address?: unknown };
      return {
        network,
        aliases,
        ...(typeof ipam.IPv4Address === 'string' && ipam.IPv4Address !== '' && { ipv4Address: ipam.IPv4Address }),
        ...(typeof ipam.IPv6Address === 'string' && ipam.IPv6Address !== '' && { ipv6Address: ipam.IPv6Address }),
      };
    });
}

/** Published ports of a listed container (exposed-only ports have no PublicPort). */
export function portsFromListing(ports: Dockerode.Port[]): PublishedPort[] {
  return ports
    .filter((port) => typeof port.PublicPort === 'number' && port.PublicPort > 0)
    .map((port) => ({ hostIp: port.IP ?? '', hostPort: port.PublicPort, containerPort: port.PrivatePort, protocol: port.Type }));
}

/** `(healthy)`, `(unhealthy)`, `(health: starting)` in a listing's Status; undefined without a healthcheck. */
export function healthFromStatus(status: string | undefined): HealthState | undefined {
  if (!status) return undefined;
  if (/\(health: starting\)/.test(status)) return 'starting';
  if (/\(unhealthy\)/.test(status)) return 'unhealthy';
  if (/\(healthy\)/.test(status)) return 'healthy';
  return undefined;
}

/** The code in `Exited (137) …` / `Restarting (1) …`; 0 otherwise. */
export function exitCodeFromStatus(status: string | undefined): number {
  const match = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(status ?? '');
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

/** A network from a list or inspect answer. */
export function networkOf(info: Pick<Dockerode.NetworkInspectInfo, 'Id' | 'Name' | 'Labels'>): ObservedNetwork {
  return { id: info.Id, name: info.Name, labels: info.Labels ?? {} };
}

/** A volume from a list or inspect answer (Labels is null on unlabelled volumes). */
export function volumeOf(info: Pick<Dockerode.VolumeInspectInfo, 'Name' | 'Labels'>): ObservedVolume {
  return { name: info.Name, labels: info.Labels ?? {} };
}

/** An image from an inspect answer. */
export function imageOf(info: Dockerode.ImageInspectInfo): ImageInfo {
  const exposed = Object.keys(info.Config?.ExposedPorts ?? {}).sort();
  return { id: info.Id, repoDigests: info.RepoDigests ?? [], labels: info.Config?.Labels ?? {}, ...(exposed.length > 0 && { exposedPorts: exposed }) };
}

/** Objects not made by Flotilla may lack labels: they read as project/service "" and replica 0. */
function identityFromLabels(labels: Record<string, string>): Pick<ObservedContainer, 'project' | 'service' | 'replica' | 'configHash'> {
  const replica = Number.parseInt(labels[Label.replica] ?? '', 10);
  return {
    project: labels[Label.project] ?? '',
    service: labels[Label.service] ?? '',
    replica: Number.isNaN(replica) ? 0 : replica,
    configHash: labels[Label.configHash] ?? '',
  };
}

function stateOf(state: string | undefined): ContainerState {
  const lower = (state ?? '').toLowerCase();
  return STATES.find((known) => known === lower) ?? 'dead';
}

function healthOf(status: string | undefined): HealthState | undefined {
  return status === 'starting' || status === 'healthy' || status === 'unhealthy' ? status : undefined;
}
