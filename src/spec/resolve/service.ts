/** One validated service → ServiceSpec, with Compose's defaults applied. */
import type { BuildSpec, Dependency, ServiceSpec } from '../types.js';
import { BUILD_IGNORED } from '../schema/build.js';
import { DEPLOY_IGNORED } from '../schema/deploy.js';
import { SERVICE_IGNORED, type RawService } from '../schema/service.js';
import { closest } from '../suggest.js';
import type { PathSegment } from '../yaml-node.js';
import type { ResolveContext } from './context.js';
import { resolveEnvironment } from './environment.js';
import { keyValueRecord } from './key-values.js';
import { resolveGrants, resolveVolumes } from './mounts.js';
import { resolveExpose, resolveExtraHosts, resolvePorts, resolveServiceNetworks } from './networking.js';
import { resolveDeploy, resolveHealthcheck, resolvePullPolicy, resolveReplicas, resolveRestart, resolveUlimits } from './runtime-settings.js';
import { shellWords } from './shell-words.js';
import { resolveServiceMesh } from './mesh.js';
import { resolveTests } from './tests.js';

const PROFILE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IMAGE = /^[^\s]+$/;

/** A resolved service and where each of its dependencies is written (for cycle messages). */
export interface ResolvedService {
  spec: ServiceSpec;
  dependencyPaths: Record<string, PathSegment[]>;
}

/** Resolves one service; problems are reported to the context and a best-effort spec is still returned. */
export async function resolveService(name: string, raw: RawService, context: ResolveContext, stripped: ReadonlySet<string> = new Set()): Promise<ResolvedService> {
  const path: PathSegment[] = ['services', name];
  warnIgnored(raw, SERVICE_IGNORED, path, context);
  const build = resolveBuild(raw, path, context);
  const { dependsOn, dependencyPaths } = resolveDependsOn(raw, path);
  const mesh = resolveServiceMesh(raw['x-flotilla']?.mesh, raw.network_mode, path, context);
  const spec: ServiceSpec = {
    name,
    image: resolveImage(name, raw, build, path, context, stripped),
    environment: await resolveEnvironment(raw, path, context),
    ports: resolvePorts(raw, path, context),
    expose: resolveExpose(raw, path, context),
    volumes: resolveVolumes(raw, path, context),
    networks: resolveServiceNetworks(raw, path, context),
    dependsOn,
    restart: resolveRestart(raw, path, context),
    replicas: resolveReplicas(raw, path, context),
    labels: keyValueRecord(raw.labels, [...path, 'labels'], context, 'empty'),
    stopGracePeriod: raw.stop_grace_period ?? '10s',
    secrets: resolveGrants(raw.secrets, 'secrets', path, context),
    configs: resolveGrants(raw.configs, 'configs', path, context),
    extraHosts: resolveExtraHosts(raw, path, context),
    capAdd: [...new Set(raw.cap_add ?? [])],
    capDrop: [...new Set(raw.cap_drop ?? [])],
    readOnly: raw.read_only ?? false,
    privileged: raw.privileged ?? false,
    tty: raw.tty ?? false,
    stdinOpen: raw.stdin_open ?? false,
    ulimits: resolveUlimits(raw, path, context),
    pullPolicy: resolvePullPolicy(raw, path, context),
    profiles: [...new Set(raw.profiles ?? [])],
    flotilla: {
      tests: resolveTests(name, raw, build, context),
      ...(raw['x-flotilla']?.telemetry !== undefined && { telemetry: raw['x-flotilla'].telemetry }),
      ...(mesh !== undefined && { mesh }),
    },
    extensions: extensionsOf(raw),
  };
  if (build) spec.build = build;
  const command = resolveCommand(raw.command, [...path, 'command'], context);
  if (command) spec.command = command;
  const entrypoint = resolveCommand(raw.entrypoint, [...path, 'entrypoint'], context);
  if (entrypoint) spec.entrypoint = entrypoint;
  if (raw.network_mode !== undefined) {
    spec.networkMode = raw.network_mode;
    // Sharing another service's network namespace needs that service's container first.
    const shared = raw.network_mode.startsWith('service:') ? raw.network_mode.slice('service:'.length) : undefined;
    if (shared !== undefined && !Object.hasOwn(spec.dependsOn, shared)) {
      spec.dependsOn[shared] = { condition: 'service_started', restart: false, required: true };
      dependencyPaths[shared] = [...path, 'network_mode'];
    }
  }
  const healthcheck = resolveHealthcheck(raw, path, context);
  if (healthcheck) spec.healthcheck = healthcheck;
  if (raw.deploy) warnIgnored(raw.deploy, DEPLOY_IGNORED, [...path, 'deploy'], context);
  const deploy = resolveDeploy(raw.deploy, path, context);
  if (deploy) spec.deploy = deploy;
  if (raw.user !== undefined) spec.user = raw.user;
  if (raw.working_dir !== undefined) {
    if (!raw.working_dir.startsWith('/')) context.fail([...path, 'working_dir'], `expected an absolute path inside the container, found '${raw.working_dir}'`);
    spec.workingDir = raw.working_dir;
  }
  if (raw.init !== undefined) spec.init = raw.init;
  if (raw.stop_signal !== undefined) spec.stopSignal = raw.stop_signal;
  if (raw.hostname !== undefined) spec.hostname = raw.hostname;
  if (raw.domainname !== undefined) spec.domainname = raw.domainname;
  if (raw.logging) {
    const logging: NonNullable<ServiceSpec['logging']> = { options: raw.logging.options ?? {} };
    if (raw.logging.driver !== undefined) logging.driver = raw.logging.driver;
    spec.logging = logging;
  }
  return { spec, dependencyPaths };
}

function resolveImage(name: string, raw: RawService, build: BuildSpec | undefined, path: readonly PathSegment[], context: ResolveContext, stripped: ReadonlySet<string>): string {
  if (raw.image !== undefined) {
    if (!IMAGE.test(raw.image)) context.fail([...path, 'image'], `expected an image reference like nginx:1.27, found ${raw.image === '' ? 'an empty string' : `'${raw.image}'`}`);
    return raw.image;
  }
  // Image references are lowercase; service names need not be.
  if (build) return `${context.projectName}-${name.toLowerCase()}`;
  // An image or build that failed validation (or was misspelt), or a failed extends, is already reported.
  const reported = [...stripped].some((key) => closest(key, ['image', 'build']) !== undefined) || raw.extends !== undefined;
  if (!reported) context.fail(path, `service '${name}' has neither 'image' nor 'build'; add one of them`, 'key');
  return '';
}

function resolveBuild(raw: RawService, path: readonly PathSegment[], context: ResolveContext): BuildSpec | undefined {
  const build = raw.build;
  if (build === undefined) return undefined;
  if (typeof build === 'string') return { context: build, dockerfile: 'Dockerfile', args: {}, labels: {} };
  warnIgnored(build, BUILD_IGNORED, [...path, 'build'], context);
  const spec: BuildSpec = {
    // relative-paths.ts has set a default context on every build mapping; '.' only guards odd input.
    context: build.context ?? '.',
    dockerfile: build.dockerfile ?? 'Dockerfile',
    args: keyValueRecord(build.args, [...path, 'build', 'args'], context, 'lookup'),
    labels: keyValueRecord(build.labels, [...path, 'build', 'labels'], context, 'empty'),
  };
  if (build.target !== undefined) spec.target = build.target;
  return spec;
}

function resolveCommand(raw: string | string[] | null | undefined, path: readonly PathSegment[], context: ResolveContext): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) return raw;
  const split = shellWords(raw);
  if ('error' in split) {
    context.fail(path, split.error);
    return undefined;
  }
  return split.words;
}

function resolveDependsOn(raw: RawService, path: readonly PathSegment[]): { dependsOn: Record<string, Dependency>; dependencyPaths: Record<string, PathSegment[]> } {
  const dependsOn: Record<string, Dependency> = {};
  const dependencyPaths: Record<string, PathSegment[]> = {};
  const deps = raw.depends_on;
  if (Array.isArray(deps)) {
    deps.forEach((dep, index) => {
      dependsOn[dep] = { condition: 'service_started', restart: false, required: true };
      dependencyPaths[dep] = [...path, 'depends_on', index];
    });
  } else if (deps) {
    for (const [dep, options] of Object.entries(deps)) {
      dependsOn[dep] = { condition: options.condition ?? 'service_started', restart: options.restart ?? false, required: options.required ?? true };
      dependencyPaths[dep] = [...path, 'depends_on', dep];
    }
  }
  return { dependsOn, dependencyPaths };
}

/** Checks profile names; done for every service, enabled or not, since it decides which are enabled. */
export function checkProfiles(name: string, raw: RawService, context: ResolveContext): void {
  raw.profiles?.forEach((profile, index) => {
    if (!PROFILE.test(profile)) context.fail(['services', name, 'profiles', index], `expected a profile name of letters, digits, '_', '.' or '-', found '${profile}'`);
  });
}

function extensionsOf(raw: RawService): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) if (key.startsWith('x-') && key !== 'x-flotilla') out[key] = value;
  return out;
}

function warnIgnored(raw: object, keys: readonly string[], path: readonly PathSegment[], context: ResolveContext): void {
  for (const key of keys) {
    if (Object.hasOwn(raw, key)) context.warn([...path, key], `'${key}' is not supported by Flotilla yet and is ignored`);
  }
}
