/**
 * Validated model → Stack: zod checks the raw shape (each service on its own, so one broken
 * service does not hide the others' problems), then every service, network, volume, secret and
 * config is resolved with its defaults, and references between them are checked.
 */
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import type { ConfigSpec, NetworkSpec, SecretSpec, ServiceSpec, Stack, TelemetrySettings, VolumeSpec } from './types.js';
import { parseDuration } from './duration.js';
import type { Lookup } from './interpolate.js';
import { nodeAt, type IssueCollector } from './issues.js';
import { parseLeniently } from './lenient-parse.js';
import { invalidProjectNameMessage, isValidProjectName, normalizeProjectName } from './project-name.js';
import { ResolveContext, type Declared } from './resolve/context.js';
import { checkDependencies } from './resolve/dependencies.js';
import { resolveExperiments } from './resolve/experiments.js';
import { defaultNetwork, resolveConfig, resolveNetwork, resolveSecret, resolveVolume } from './resolve/resources.js';
import { outlineServices, selectServices } from './resolve/selection.js';
import { checkProfiles, resolveService } from './resolve/service.js';
import { composeSchema, type RawCompose } from './schema/compose.js';
import { SERVICE_KEYS, serviceSchema } from './schema/service.js';
import { didYouMean } from './suggest.js';
import { describeNode, toPlain, type PathSegment, type YMap } from './yaml-node.js';

const SERVICE_NAME = /^[a-zA-Z0-9._-]+$/;
const RESOURCE_SECTIONS = new Set(['networks', 'volumes', 'secrets', 'configs']);
/**
 * Service keys where an empty value means "none", as when every item of a list is commented out.
 * (`build:` stays an error: an empty build is a forgotten context, not an absent one.)
 */
const EMPTY_MEANS_UNSET = [
  'environment', 'env_file', 'labels', 'ports', 'expose', 'volumes', 'networks', 'depends_on', 'secrets', 'configs',
  'extra_hosts', 'cap_add', 'cap_drop', 'ulimits', 'profiles', 'healthcheck', 'logging',
];
const DEFAULT_WAIT_TIMEOUT = '300s';

/** The merged model and the choices that shape the stack. */
export interface StackInput {
  model: YMap;
  files: string[];
  projectDir: string;
  /** Shell and env-file variables together. */
  env: Record<string, string>;
  projectName?: string | undefined;
  profiles: string[];
  services: string[];
  issues: IssueCollector;
  warn: (message: string) => void;
}

/** The resolved stack; throws SpecError with every issue, or UsageError for an unknown service name. */
export async function resolveStack(input: StackInput): Promise<Stack> {
  const { model, issues } = input;
  const plain = toPlain(model) as Record<string, unknown>;
  // A broken network or secret is set aside whole; a broken top-level key alone.
  const top: RawCompose | undefined = parseLeniently(composeSchema, plain, { root: model, prefix: [], issues }, (at) =>
    RESOURCE_SECTIONS.has(String(at[0])) && at.length >= 2 ? 2 : 1,
  ).data;

  const lookup: Lookup = (name) => (Object.hasOwn(input.env, name) ? input.env[name] : undefined);
  const projectName = resolveProjectName(input, top, lookup);
  const outlines = outlineServices(model);
  const enabled = selectServices(outlines, input.profiles, input.services);
  const context = new ResolveContext(model, issues, input.warn, lookup, projectName, declaredNames(plain));
  if (plain['version'] !== undefined) context.warn(['version'], "the top-level 'version' is obsolete and ignored");

  const services: Record<string, ServiceSpec> = {};
  const dependencyPaths = new Map<string, Record<string, PathSegment[]>>();
  // Services whose validation failed in a way that makes checks against them meaningless.
  const unreliable = new Set<string>();
  const rawServices = isRecord(plain['services']) ? plain['services'] : {};
  for (const name of Object.keys(rawServices).sort()) {
    const at = ['services', name];
    if (!SERVICE_NAME.test(name)) context.fail(at, `invalid service name '${name}': use letters, digits, '.', '_' and '-'`, 'key');
    const value = rawServices[name];
    if (value === null || (SERVICE_KEYS.has(name) && !isRecord(value))) {
      // Almost always an indentation slip: a service's keys ended up beside it instead of under it.
      const message =
        value === null
          ? `expected a mapping of service settings, found an empty value (are its keys indented under '${name}:'?)`
          : `expected a mapping of service settings, found ${describeNode(nodeAt(model, at))} ('${name}' is a service setting: is it indented under its service?)`;
      context.fail(at, message, value === null ? 'key' : 'value');
      unreliable.add(name);
      continue;
    }
    const result = parseLeniently(serviceSchema, withoutEmpty(value), { root: model, prefix: at, issues });
    if (result.data === undefined || result.stripped.has('healthcheck')) unreliable.add(name);
    if (result.data === undefined) continue;
    checkProfiles(name, result.data, context);
    if (!enabled.has(name)) continue;
    const resolved = await resolveService(name, result.data, context, result.stripped);
    services[name] = resolved.spec;
    dependencyPaths.set(name, resolved.dependencyPaths);
  }
  checkDependencies(services, dependencyPaths, outlines, unreliable, context);

  const networks = resolveSection(top?.networks, (key, raw) => resolveNetwork(key, raw, context));
  if (!Object.hasOwn(networks, 'default') && Object.values(services).some((service) => Object.hasOwn(service.networks, 'default'))) {
    networks['default'] = defaultNetwork(projectName);
  }
  const volumes = resolveSection(top?.volumes, (key, raw) => resolveVolume(key, raw, context));
  const secrets = resolveSection(top?.secrets, (key, raw) => resolveSecret(key, raw, context));
  const configs = resolveSection(top?.configs, (key, raw) => resolveConfig(key, raw, context));
  const flotilla = top?.['x-flotilla'];
  const experiments = resolveExperiments(flotilla?.experiments, ['x-flotilla', 'experiments'], {
    services: new Set(outlines.keys()),
    fail: (at, message, target) => context.fail(at, message, target),
  });

  issues.throwIfAny();
  const unknown = input.services.filter((name) => !outlines.has(name));
  if (unknown.length > 0) {
    const [first = ''] = unknown;
    throw new UsageError(`no such service: '${first}'${didYouMean(first, outlines.keys())}`, { hint: `services in this project: ${[...outlines.keys()].sort().join(', ')}` });
  }
  const stack: Stack = {
    name: projectName,
    workingDir: input.projectDir,
    files: input.files,
    services,
    disabledServices: [...outlines.keys()].filter((name) => !enabled.has(name)).sort(),
    environment: input.env,
    networks: sortKeys(networks),
    volumes: sortKeys(volumes),
    secrets: sortKeys(secrets),
    configs: sortKeys(configs),
    flotilla: {
      waitTimeoutSeconds: parseDuration(flotilla?.wait_timeout ?? DEFAULT_WAIT_TIMEOUT) / 1000,
      telemetry: resolveTelemetry(flotilla?.telemetry),
      ...(Object.keys(experiments).length > 0 && { experiments }),
      ...(flotilla?.mesh !== undefined && { mesh: flotilla.mesh }),
    },
    extensions: Object.fromEntries(Object.entries(plain).filter(([key]) => key.startsWith('x-') && key !== 'x-flotilla').sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return stack;
}

/** `telemetry: false`, `true`, or `{ endpoint }` (which turns it on) → TelemetrySettings; on by default. */
function resolveTelemetry(raw: boolean | { endpoint?: string | undefined } | undefined): TelemetrySettings {
  if (raw === undefined || typeof raw === 'boolean') return { enabled: raw ?? true };
  return { enabled: true, ...(raw.endpoint !== undefined && { endpoint: raw.endpoint }) };
}

/** `-p`, else COMPOSE_PROJECT_NAME, else top-level `name:`, else the project directory's name, normalized. */
function resolveProjectName(input: StackInput, top: RawCompose | undefined, lookup: Lookup): string {
  if (input.projectName !== undefined) {
    if (!isValidProjectName(input.projectName)) throw new UsageError(invalidProjectNameMessage(input.projectName, '-p'));
    return input.projectName;
  }
  const fromEnv = lookup('COMPOSE_PROJECT_NAME');
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isValidProjectName(fromEnv)) throw new UsageError(invalidProjectNameMessage(fromEnv, 'COMPOSE_PROJECT_NAME'));
    return fromEnv;
  }
  const fromFile = top?.name;
  if (fromFile !== undefined && fromFile !== '') {
    if (isValidProjectName(fromFile)) return fromFile;
    input.issues.at(input.model, ['name'], invalidProjectNameMessage(fromFile, 'name:'));
    return normalizeProjectName(fromFile) || 'project';
  }
  const fromDir = normalizeProjectName(path.basename(input.projectDir));
  if (fromDir === '') {
    throw new UsageError(`cannot make a project name from the directory '${input.projectDir}'`, { hint: 'Set a top-level name: in the Compose file or pass -p.' });
  }
  return fromDir;
}

function declaredNames(plain: Record<string, unknown>): Declared {
  const keys = (section: string): Set<string> => new Set(isRecord(plain[section]) ? Object.keys(plain[section]) : []);
  return { networks: keys('networks'), volumes: keys('volumes'), secrets: keys('secrets'), configs: keys('configs') };
}

function resolveSection<R, T>(raw: Record<string, R> | null | undefined, resolve: (key: string, raw: R) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(raw ?? {})) out[key] = resolve(key, value);
  return out;
}

function sortKeys<T extends NetworkSpec | VolumeSpec | SecretSpec | ConfigSpec>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function withoutEmpty(service: unknown): unknown {
  if (!isRecord(service)) return service;
  const copy: Record<string, unknown> = { ...service };
  for (const key of EMPTY_MEANS_UNSET) if (copy[key] === null) Reflect.deleteProperty(copy, key);
  return copy;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
