/**
 * Pure mapping from the resolved stack to what the driver is asked to create, with the labels
 * that make each object findable again.
 */
import { FlotillaError } from '../core/errors.js';
import { FLOTILLA_VERSION } from '../core/version.js';
import { Label } from '../runtime/labels.js';
import type { ContainerFile, ContainerRequest, ImageInfo, NetworkRequest, VolumeRequest } from '../runtime/driver.js';
import { meshSettingsOf } from '../spec/mesh.js';
import type { FileGrant, ServiceSpec, Stack } from '../spec/types.js';
import { serviceConfigHash } from './config-hash.js';
import { upstreamAlias } from './mesh.js';
import { containerName } from './names.js';
import { telemetryInjection } from './telemetry-env.js';

/** Labels every object of the project carries, plus the run's extra labels. */
export function baseLabels(stack: Stack, extra: Record<string, string>): Record<string, string> {
  return { ...extra, [Label.project]: stack.name, [Label.version]: FLOTILLA_VERSION };
}

/** The network with this engine name, as a create request. */
export function networkRequest(stack: Stack, name: string, extra: Record<string, string>): NetworkRequest {
  const [key, network] = Object.entries(stack.networks).find(([, spec]) => spec.name === name) ?? [];
  if (!key || !network) throw new FlotillaError('INTERNAL', `network ${name} is not in the stack`);
  return {
    name,
    driver: network.driver,
    driverOpts: network.driverOpts,
    internal: network.internal,
    attachable: network.attachable,
    enableIpv6: network.enableIpv6,
    ...(network.ipam ? { ipam: network.ipam } : {}),
    labels: { ...network.labels, ...baseLabels(stack, extra), [Label.network]: key },
  };
}

/** The volume with this engine name, as a create request. */
export function volumeRequest(stack: Stack, name: string, extra: Record<string, string>): VolumeRequest {
  const [key, volume] = Object.entries(stack.volumes).find(([, spec]) => spec.name === name) ?? [];
  if (!key || !volume) throw new FlotillaError('INTERNAL', `volume ${name} is not in the stack`);
  return {
    name,
    driver: volume.driver,
    driverOpts: volume.driverOpts,
    labels: { ...volume.labels, ...baseLabels(stack, extra), [Label.volume]: key },
  };
}

export interface ContainerRequestInput {
  stack: Stack;
  service: ServiceSpec;
  replica: number;
  /** The image to run, as inspected: its id is what runs, its labels (git revision, version) go into the telemetry resource. */
  image: ImageInfo;
  extraLabels: Record<string, string>;
  /** Container id of the service named by `network_mode: service:<name>`. */
  networkModeContainer?: string;
}

/**
 * One replica of a service, as a create request. The service in the request carries what Flotilla
 * adds to it: the OTEL_* variables the Compose file does not set, and the collector's host name.
 */
export function containerRequest(input: ContainerRequestInput): ContainerRequest {
  const { stack, service, replica } = input;
  const name = containerName(stack.name, service.name, replica);
  const telemetry = telemetryInjection({ stack, service, containerName: name, image: input.image });
  const volumeNames: Record<string, string> = {};
  for (const [key, volume] of Object.entries(stack.volumes)) volumeNames[key] = volume.name;
  // A meshed service's proxy takes its names (its own and the aliases the Compose file gives it);
  // the replicas answer only to `<service>-upstream` behind it, so no caller can go around the proxy.
  const meshed = meshSettingsOf(stack, service) !== undefined;
  const networks = Object.entries(service.networks).map(([key, attachment]) => ({
    name: stack.networks[key]?.name ?? key,
    aliases: meshed ? [upstreamAlias(service.name)] : [...new Set([service.name, ...attachment.aliases])],
    ...(attachment.ipv4Address ? { ipv4Address: attachment.ipv4Address } : {}),
    ...(attachment.ipv6Address ? { ipv6Address: attachment.ipv6Address } : {}),
  }));
  return {
    name,
    image: input.image.id,
    service: {
      ...service,
      environment: { ...telemetry.environment, ...service.environment },
      extraHosts: [...service.extraHosts, ...telemetry.extraHosts],
    },
    replica,
    labels: {
      ...baseLabels(stack, input.extraLabels),
      [Label.service]: service.name,
      [Label.replica]: String(replica),
      [Label.configHash]: serviceConfigHash(stack, service),
      [Label.image]: service.image,
    },
    networks,
    volumeNames,
    ...(input.networkModeContainer ? { networkModeContainer: input.networkModeContainer } : {}),
    files: [
      ...service.secrets.map((grant) => grantFile(grant, stack.secrets[grant.source], 'secret', stack.environment)),
      ...service.configs.map((grant) => grantFile(grant, stack.configs[grant.source], 'config', stack.environment)),
    ],
  };
}

type Source = Stack['secrets'][string] | Stack['configs'][string] | undefined;

function grantFile(grant: FileGrant, source: Source, kind: 'secret' | 'config', env: Record<string, string | undefined>): ContainerFile {
  if (!source) throw new FlotillaError('INTERNAL', `${kind} ${grant.source} is not in the stack`);
  const mode = grant.mode ?? 0o444;
  const owner = { uid: Number(grant.uid ?? 0), gid: Number(grant.gid ?? 0) };
  if ('file' in source) return { target: grant.target, hostPath: source.file };
  if ('environment' in source) {
    const value = env[source.environment];
    if (value === undefined) {
      throw new FlotillaError('SECRET_UNSET', `${kind} ${grant.source}: environment variable ${source.environment} is not set`, {
        hint: `Export ${source.environment} before running the command.`,
      });
    }
    return { target: grant.target, content: Buffer.from(value), mode, ...owner };
  }
  if ('content' in source) return { target: grant.target, content: Buffer.from(source.content), mode, ...owner };
  throw new FlotillaError('EXTERNAL_UNSUPPORTED', `${kind} ${grant.source} is external: external ${kind}s need Docker Swarm`, {
    hint: `Give the ${kind} a file or environment source for a single Docker host.`,
  });
}
