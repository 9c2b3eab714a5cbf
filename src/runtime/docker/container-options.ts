/**
 * The pure mapping from a ContainerRequest (a resolved Compose service plus what the planner
 * decided: name, image id, labels, networks, volume names) to the Engine's create body.
 * Everything the Engine cannot take at create time (second and further networks, content
 * files) is described by the other exports here and applied by the driver after create.
 */
import type Dockerode from 'dockerode';
import { InternalError } from '../../core/errors.js';
import { parseDuration } from '../../spec/duration.js';
import type { DeploySpec, Healthcheck, PortSpec, RestartPolicy, ServiceSpec } from '../../spec/types.js';
import type { ContainerFile, ContainerRequest } from '../driver.js';

type MountSettings = Dockerode.MountSettings;
type EndpointSettings = Dockerode.EndpointSettings;

/** The Engine's create body (with `name`) for `request`. */
export function containerCreateOptions(request: ContainerRequest): Dockerode.ContainerCreateOptions {
  const service = request.service;
  const { exposedPorts, portBindings } = portsOf(service);
  const { mounts, binds } = mountsOf(request);
  const network = networkingOf(request);

  const hostConfig: Dockerode.HostConfig = {
    ...(network.mode !== undefined && { NetworkMode: network.mode }),
    RestartPolicy: restartPolicyOf(service.restart, service.deploy),
    ...(Object.keys(portBindings).length > 0 && { PortBindings: portBindings }),
    ...(mounts.length > 0 && { Mounts: mounts }),
    ...(binds.length > 0 && { Binds: binds }),
    ...resourcesOf(service.deploy),
    ...(service.init !== undefined && { Init: service.init }),
    ...(service.extraHosts.length > 0 && { ExtraHosts: service.extraHosts.map((h) => `${h.host}:${h.ip}`) }),
    ...(service.capAdd.length > 0 && { CapAdd: [...service.capAdd] }),
    ...(service.capDrop.length > 0 && { CapDrop: [...service.capDrop] }),
    ReadonlyRootfs: service.readOnly,
    Privileged: service.privileged,
    ...ulimitsOf(service.ulimits),
    ...(service.logging && { LogConfig: { Type: service.logging.driver ?? '', Config: { ...service.logging.options } } }),
  };

  return {
    name: request.name,
    Image: request.image,
    ...(service.command !== undefined && { Cmd: [...service.command] }),
    ...(service.entrypoint !== undefined && { Entrypoint: [...service.entrypoint] }),
    Env: Object.entries(service.environment)
      .sort(([a], [b]) => compare(a, b))
      .map(([key, value]) => `${key}=${value}`),
    Labels: { ...service.labels, ...request.labels },
    ...(Object.keys(exposedPorts).length > 0 && { ExposedPorts: exposedPorts }),
    ...(service.healthcheck && { Healthcheck: healthcheckOf(service.healthcheck) }),
    ...(service.user !== undefined && { User: service.user }),
    ...(service.workingDir !== undefined && { WorkingDir: service.workingDir }),
    ...(service.stopSignal !== undefined && { StopSignal: service.stopSignal }),
    StopTimeout: stopTimeoutSeconds(service),
    ...(service.hostname !== undefined && { Hostname: service.hostname }),
    ...(service.domainname !== undefined && { Domainname: service.domainname }),
    Tty: service.tty,
    OpenStdin: service.stdinOpen,
    HostConfig: hostConfig,
    ...(network.endpoints && { NetworkingConfig: { EndpointsConfig: network.endpoints } }),
  };
}

/** Networks to connect after create: API 1.41 takes only one endpoint in the create body. */
export function additionalNetworks(request: ContainerRequest): { network: string; endpoint: EndpointSettings }[] {
  if (request.service.networkMode !== undefined) return [];
  return request.networks.slice(1).map((network) => ({ network: network.name, endpoint: endpointOf(network) }));
}

/** Files copied into the container after create (bind-mounted files are in the create body). */
export function contentFiles(request: ContainerRequest): Extract<ContainerFile, { content: Buffer }>[] {
  return request.files.filter((file): file is Extract<ContainerFile, { content: Buffer }> => 'content' in file);
}

/** Seconds between the stop signal and SIGKILL, rounded up so a grace period is never cut short. */
export function stopTimeoutSeconds(service: ServiceSpec): number {
  return Math.ceil(parseDuration(service.stopGracePeriod) / 1000);
}

/** `8080`, `8080/udp`, `8080-8082` → `['8080/tcp']`…; expose entries and port targets alike. */
export function expandPortRange(text: string, defaultProtocol = 'tcp'): string[] {
  const [range = '', protocol = defaultProtocol] = text.trim().split('/');
  const [start, end = start] = range.split('-').map(Number);
  if (start === undefined || end === undefined || !Number.isInteger(start) || !Number.isInteger(end) || end < start) {
    throw new InternalError(`"${text}" is not a port or port range; the Compose loader should have rejected it`);
  }
  const ports: string[] = [];
  for (let port = start; port <= end; port++) ports.push(`${port}/${protocol}`);
  return ports;
}

function portsOf(service: ServiceSpec): {
  exposedPorts: Record<string, Record<string, never>>;
  portBindings: Dockerode.PortMap;
} {
  const exposedPorts: Record<string, Record<string, never>> = {};
  const portBindings: Dockerode.PortMap = {};
  for (const entry of service.expose) {
    for (const key of expandPortRange(entry)) exposedPorts[key] = {};
  }
  for (const port of service.ports) {
    const key = `${port.target}/${port.protocol}`;
    exposedPorts[key] = {};
    (portBindings[key] ??= []).push(bindingOf(port));
  }
  return { exposedPorts, portBindings };
}

/**
 * A published range for one target (`8080-8090:80`) goes to the Engine as is: it picks a free
 * port from the range, as `docker run -p` does. No `published`: an ephemeral host port.
 */
function bindingOf(port: PortSpec): Dockerode.PortBinding {
  return { HostIp: port.hostIp ?? '', HostPort: port.published ?? '' };
}

function mountsOf(request: ContainerRequest): { mounts: MountSettings[]; binds: string[] } {
  const mounts: MountSettings[] = [];
  const binds: string[] = [];
  for (const volume of request.service.volumes) {
    switch (volume.type) {
      case 'volume': {
        const source = volume.source === undefined ? '' : request.volumeNames[volume.source];
        if (source === undefined) {
          throw new InternalError(`service "${request.service.name}" mounts volume "${volume.source}" but the request has no engine name for it`);
        }
        mounts.push({
          Type: 'volume',
          Source: source,
          Target: volume.target,
          ReadOnly: volume.readOnly,
          // @types marks Labels and DriverConfig required; the Engine treats them as optional.
          ...(volume.nocopy && { VolumeOptions: { NoCopy: true } as MountSettings['VolumeOptions'] }),
        });
        break;
      }
      case 'bind':
        // Only the legacy Binds form creates a missing host directory (Compose's create_host_path);
        // a Mounts bind fails instead, which is what `create_host_path: false` asks for.
        if (volume.createHostPath) binds.push(`${volume.source}:${volume.target}${volume.readOnly ? ':ro' : ''}`);
        else mounts.push({ Type: 'bind', Source: volume.source, Target: volume.target, ReadOnly: volume.readOnly });
        break;
      case 'tmpfs': {
        const options = {
          ...(volume.size !== undefined && { SizeBytes: volume.size }),
          ...(volume.mode !== undefined && { Mode: volume.mode }),
        };
        mounts.push({
          Type: 'tmpfs',
          Source: '',
          Target: volume.target,
          // @types marks both fields required; either may be left to the Engine's default.
          ...(Object.keys(options).length > 0 && { TmpfsOptions: options as MountSettings['TmpfsOptions'] }),
        });
        break;
      }
    }
  }
  for (const file of request.files) {
    if ('hostPath' in file) mounts.push({ Type: 'bind', Source: file.hostPath, Target: file.target, ReadOnly: true });
  }
  return { mounts, binds };
}

function networkingOf(request: ContainerRequest): { mode: string | undefined; endpoints?: Dockerode.EndpointsConfig } {
  const mode = request.service.networkMode;
  if (mode !== undefined) {
    if (!mode.startsWith('service:')) return { mode };
    if (request.networkModeContainer === undefined) {
      throw new InternalError(`service "${request.service.name}" has network_mode "${mode}" but the request names no container for it`);
    }
    return { mode: `container:${request.networkModeContainer}` };
  }
  const primary = request.networks[0];
  if (!primary) return { mode: undefined };
  return { mode: primary.name, endpoints: { [primary.name]: endpointOf(primary) } };
}

function endpointOf(network: ContainerRequest['networks'][number]): EndpointSettings {
  const ipam = {
    ...(network.ipv4Address !== undefined && { IPv4Address: network.ipv4Address }),
    ...(network.ipv6Address !== undefined && { IPv6Address: network.ipv6Address }),
  };
  return {
    Aliases: [...network.aliases],
    ...(Object.keys(ipam).length > 0 && { IPAMConfig: ipam }),
  };
}

function healthcheckOf(healthcheck: Healthcheck): Dockerode.HealthConfig {
  if (healthcheck.disable) return { Test: ['NONE'] };
  return {
    Test: [...healthcheck.test],
    Interval: nanoseconds(healthcheck.interval),
    Timeout: nanoseconds(healthcheck.timeout),
    Retries: healthcheck.retries,
    StartPeriod: nanoseconds(healthcheck.startPeriod),
    // Engines before API 1.44 ignore StartInterval; newer ones use it during the start period.
    StartInterval: nanoseconds(healthcheck.startInterval),
  };
}

function nanoseconds(duration: string): number {
  return Math.round(parseDuration(duration) * 1_000_000);
}

/**
 * `restart:` wins; `deploy.restart_policy` applies when `restart` is the default `no`, as
 * docker compose does when only the deploy form is written.
 */
function restartPolicyOf(restart: RestartPolicy, deploy: DeploySpec | undefined): Dockerode.HostRestartPolicy {
  if (restart === 'no' && deploy?.restartPolicy) {
    const { condition, maxAttempts } = deploy.restartPolicy;
    if (condition === 'any') return { Name: 'always' };
    if (condition === 'none') return { Name: 'no' };
    return { Name: 'on-failure', ...(maxAttempts !== undefined && { MaximumRetryCount: maxAttempts }) };
  }
  if (restart.startsWith('on-failure:')) {
    return { Name: 'on-failure', MaximumRetryCount: Number(restart.slice('on-failure:'.length)) };
  }
  return { Name: restart };
}

/** Limits map to the Engine's; CPU reservations have no single-engine equivalent (compose drops them too). */
function resourcesOf(deploy: DeploySpec | undefined): Pick<Dockerode.HostConfig, 'NanoCpus' | 'Memory' | 'PidsLimit' | 'MemoryReservation'> {
  const limits = deploy?.resources.limits;
  const reservations = deploy?.resources.reservations;
  return {
    ...(limits?.cpus !== undefined && { NanoCpus: Math.round(limits.cpus * 1e9) }),
    ...(limits?.memory !== undefined && { Memory: limits.memory }),
    ...(limits?.pids !== undefined && { PidsLimit: limits.pids }),
    ...(reservations?.memory !== undefined && { MemoryReservation: reservations.memory }),
  };
}

function ulimitsOf(ulimits: ServiceSpec['ulimits']): Pick<Dockerode.HostConfig, 'Ulimits'> {
  const entries = Object.entries(ulimits).sort(([a], [b]) => compare(a, b));
  if (entries.length === 0) return {};
  return { Ulimits: entries.map(([name, { soft, hard }]) => ({ Name: name, Soft: soft, Hard: hard })) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
