/** Top-level networks, volumes, secrets and configs → their specs, with engine names and defaults. */
import { InternalError } from '../../core/errors.js';
import type { ConfigSpec, NetworkSpec, SecretSpec, VolumeSpec } from '../types.js';
import type { RawNetwork } from '../schema/networks.js';
import type { RawConfigDeclaration, RawSecretDeclaration, RawVolumeDeclaration } from '../schema/resources.js';
import type { PathSegment } from '../yaml-node.js';
import type { ResolveContext } from './context.js';
import { keyValueRecord } from './key-values.js';

const CIDR = /^[0-9a-fA-F:.]+\/\d{1,3}$/;

/** `external: true` or the legacy `external: {name: x}`. */
function externalOf(raw: boolean | { name?: string | undefined } | undefined): { external: boolean; name?: string | undefined } {
  if (raw === undefined || typeof raw === 'boolean') return { external: raw ?? false };
  return { external: true, name: raw.name };
}

/** Keys that configure a resource Flotilla would create, which an external one cannot have. */
function conflictsWithExternal(raw: object, keys: readonly string[], kind: string, key: string, path: readonly PathSegment[], context: ResolveContext): void {
  for (const option of keys) {
    if (Object.hasOwn(raw, option)) context.fail([...path, option], `${kind} '${key}' is external, so '${option}' cannot be set (it is managed outside this project)`, 'key');
  }
}

/** One top-level network. */
export function resolveNetwork(key: string, raw: RawNetwork | null, context: ResolveContext): NetworkSpec {
  const path = ['networks', key];
  const external = externalOf(raw?.external);
  if (external.external && raw) conflictsWithExternal(raw, ['driver', 'driver_opts', 'ipam', 'internal', 'attachable', 'enable_ipv6'], 'network', key, path, context);
  const spec: NetworkSpec = {
    name: raw?.name ?? external.name ?? (external.external ? key : `${context.projectName}_${key}`),
    external: external.external,
    driver: raw?.driver ?? 'bridge',
    driverOpts: raw?.driver_opts ?? {},
    internal: raw?.internal ?? false,
    attachable: raw?.attachable ?? false,
    enableIpv6: raw?.enable_ipv6 ?? false,
    labels: keyValueRecord(raw?.labels, [...path, 'labels'], context, 'empty'),
  };
  if (raw?.ipam) {
    const ipam: NonNullable<NetworkSpec['ipam']> = {
      config: (raw.ipam.config ?? []).map((pool, index) => {
        const out: { subnet?: string; gateway?: string; ipRange?: string } = {};
        if (pool.subnet !== undefined) {
          if (!CIDR.test(pool.subnet)) context.fail([...path, 'ipam', 'config', index, 'subnet'], `expected a subnet in CIDR form like 172.28.0.0/16, found '${pool.subnet}'`);
          out.subnet = pool.subnet;
        }
        if (pool.gateway !== undefined) out.gateway = pool.gateway;
        if (pool.ip_range !== undefined) out.ipRange = pool.ip_range;
        return out;
      }),
    };
    if (raw.ipam.driver !== undefined) ipam.driver = raw.ipam.driver;
    spec.ipam = ipam;
  }
  return spec;
}

/** The network every service without `networks:` joins, when the file does not declare it. */
export function defaultNetwork(projectName: string): NetworkSpec {
  return { name: `${projectName}_default`, external: false, driver: 'bridge', driverOpts: {}, internal: false, attachable: false, enableIpv6: false, labels: {} };
}

/** One top-level volume. */
export function resolveVolume(key: string, raw: RawVolumeDeclaration | null, context: ResolveContext): VolumeSpec {
  const path = ['volumes', key];
  const external = externalOf(raw?.external);
  if (external.external && raw) conflictsWithExternal(raw, ['driver', 'driver_opts'], 'volume', key, path, context);
  return {
    name: raw?.name ?? external.name ?? (external.external ? key : `${context.projectName}_${key}`),
    external: external.external,
    driver: raw?.driver ?? 'local',
    driverOpts: raw?.driver_opts ?? {},
    labels: keyValueRecord(raw?.labels, [...path, 'labels'], context, 'empty'),
  };
}

/** One top-level secret: from a file, an environment variable, or external. */
export function resolveSecret(key: string, raw: RawSecretDeclaration, context: ResolveContext): SecretSpec {
  const spec = resolveFileSource(key, raw, 'secrets', context);
  // The secrets schema has no `content`, so this branch is unreachable; it keeps the types honest.
  if ('content' in spec) throw new InternalError(`secret '${key}' has inline content`);
  return spec;
}

/** One top-level config: like a secret, or inline `content`. */
export function resolveConfig(key: string, raw: RawConfigDeclaration, context: ResolveContext): ConfigSpec {
  return resolveFileSource(key, raw, 'configs', context);
}

function resolveFileSource(key: string, raw: RawConfigDeclaration, kind: 'secrets' | 'configs', context: ResolveContext): ConfigSpec {
  const path = [kind, key];
  const noun = kind === 'secrets' ? 'secret' : 'config';
  const external = externalOf(raw.external);
  const sources = (['file', 'environment', 'content'] as const).filter((source) => raw[source] !== undefined);
  if (external.external) {
    for (const source of sources) context.fail([...path, source], `${noun} '${key}' is external, so '${source}' cannot be set`, 'key');
    return { name: raw.name ?? external.name ?? key, external: true };
  }
  const name = raw.name ?? `${context.projectName}_${key}`;
  const [first, second] = sources;
  if (second !== undefined) context.fail([...path, second], `${noun} '${key}' sets both '${first ?? ''}' and '${second}'; keep one`, 'key');
  if (raw.file !== undefined) return { name, external: false, file: raw.file };
  if (raw.environment !== undefined) return { name, external: false, environment: raw.environment };
  if (raw.content !== undefined) return { name, external: false, content: raw.content };
  const allowed = kind === 'secrets' ? "'file', 'environment' or 'external: true'" : "'file', 'environment', 'content' or 'external: true'";
  context.fail(path, `${noun} '${key}' needs a source: set ${allowed}`, 'key');
  return { name, external: true };
}
