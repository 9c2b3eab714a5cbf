/** How a service runs: healthcheck, restart, deploy, replicas, ulimits, logging, pull policy. */
import type { DeploySpec, Healthcheck, PullPolicy, RestartPolicy, UpdateConfig } from '../types.js';
import type { RawDeploy, RawUpdateConfig } from '../schema/deploy.js';
import type { RawService } from '../schema/service.js';
import type { PathSegment } from '../yaml-node.js';
import { parseBytes } from './byte-size.js';
import type { ResolveContext } from './context.js';
import { keyValueRecord } from './key-values.js';

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;
const PULL_POLICIES: readonly PullPolicy[] = ['always', 'never', 'missing', 'build', 'daily', 'weekly'];

/** The healthcheck with Compose's defaults, or undefined when the service declares none. */
export function resolveHealthcheck(raw: RawService, path: readonly PathSegment[], context: ResolveContext): Healthcheck | undefined {
  const hc = raw.healthcheck;
  if (hc === undefined) return undefined;
  const at = [...path, 'healthcheck'];
  if (hc.disable === true) {
    if (hc.test !== undefined) context.fail([...at, 'disable'], "'disable: true' cannot be combined with 'test'; remove one of them", 'key');
    return { disable: true };
  }
  let test: string[] = [];
  if (typeof hc.test === 'string') {
    test = ['CMD-SHELL', hc.test];
  } else if (hc.test !== undefined) {
    const [first, ...rest] = hc.test;
    if (first === 'NONE') return { disable: true };
    if (first !== 'CMD' && first !== 'CMD-SHELL') {
      context.fail([...at, 'test', 0], `expected the list to start with CMD, CMD-SHELL or NONE, found '${first ?? ''}' (write test: ["CMD", ${JSON.stringify(first ?? '')}, ...])`);
    } else if (rest.length === 0) {
      context.fail([...at, 'test'], `expected a command after ${first}`);
    }
    test = hc.test;
  }
  return {
    disable: false,
    test,
    interval: hc.interval ?? '30s',
    timeout: hc.timeout ?? '30s',
    retries: hc.retries ?? 3,
    startPeriod: hc.start_period ?? '0s',
    startInterval: hc.start_interval ?? '5s',
  };
}

/** `restart:`, default `no`. */
export function resolveRestart(raw: RawService, path: readonly PathSegment[], context: ResolveContext): RestartPolicy {
  const value = raw.restart ?? 'no';
  if (!RESTART.test(value)) {
    context.fail([...path, 'restart'], `expected one of 'no', 'always', 'on-failure', 'on-failure:N', 'unless-stopped', found '${value}'`);
    return 'no';
  }
  return value as RestartPolicy;
}

/** `pull_policy:`, default `missing`; `if_not_present` is Compose's older spelling of `missing`. */
export function resolvePullPolicy(raw: RawService, path: readonly PathSegment[], context: ResolveContext): PullPolicy {
  const value = raw.pull_policy ?? 'missing';
  if (value === 'if_not_present') return 'missing';
  if (!(PULL_POLICIES as readonly string[]).includes(value)) {
    context.fail([...path, 'pull_policy'], `expected one of ${PULL_POLICIES.map((p) => `'${p}'`).join(', ')}, found '${value}'`);
    return 'missing';
  }
  return value as PullPolicy;
}

/** `deploy.replicas`, else `scale`, else 1; both set to different values is an issue. */
export function resolveReplicas(raw: RawService, path: readonly PathSegment[], context: ResolveContext): number {
  const fromDeploy = raw.deploy?.replicas;
  if (fromDeploy !== undefined && raw.scale !== undefined && fromDeploy !== raw.scale) {
    context.fail([...path, 'scale'], `scale (${raw.scale}) and deploy.replicas (${fromDeploy}) disagree; set only one of them`, 'key');
  }
  return fromDeploy ?? raw.scale ?? 1;
}

/** `ulimits:` with a single number meaning soft = hard. */
export function resolveUlimits(raw: RawService, path: readonly PathSegment[], context: ResolveContext): Record<string, { soft: number; hard: number }> {
  const out: Record<string, { soft: number; hard: number }> = {};
  for (const [name, limit] of Object.entries(raw.ulimits ?? {})) {
    const value = typeof limit === 'number' ? { soft: limit, hard: limit } : limit;
    if (value.soft > value.hard) context.fail([...path, 'ulimits', name], `soft limit ${value.soft} is above hard limit ${value.hard}`);
    out[name] = value;
  }
  return out;
}

/** `deploy:` with the spec's defaults, or undefined when absent. */
export function resolveDeploy(raw: RawDeploy | null | undefined, path: readonly PathSegment[], context: ResolveContext): DeploySpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  const at = [...path, 'deploy'];
  const deploy: DeploySpec = { mode: raw.mode ?? 'replicated', resources: {}, labels: keyValueRecord(raw.labels, [...at, 'labels'], context, 'empty') };
  if (raw.replicas !== undefined) deploy.replicas = raw.replicas;
  const limits = raw.resources?.limits;
  if (limits) {
    const out: NonNullable<DeploySpec['resources']['limits']> = {};
    const cpus = cpuCount(limits.cpus, [...at, 'resources', 'limits', 'cpus'], context);
    const memory = byteCount(limits.memory, [...at, 'resources', 'limits', 'memory'], context);
    if (cpus !== undefined) out.cpus = cpus;
    if (memory !== undefined) out.memory = memory;
    if (limits.pids !== undefined) out.pids = limits.pids;
    deploy.resources.limits = out;
  }
  const reservations = raw.resources?.reservations;
  if (reservations) {
    const out: NonNullable<DeploySpec['resources']['reservations']> = {};
    const cpus = cpuCount(reservations.cpus, [...at, 'resources', 'reservations', 'cpus'], context);
    const memory = byteCount(reservations.memory, [...at, 'resources', 'reservations', 'memory'], context);
    if (cpus !== undefined) out.cpus = cpus;
    if (memory !== undefined) out.memory = memory;
    deploy.resources.reservations = out;
  }
  const policy = raw.restart_policy;
  if (policy) {
    const restart: NonNullable<DeploySpec['restartPolicy']> = { condition: policy.condition ?? 'any' };
    if (policy.delay !== undefined) restart.delay = policy.delay;
    if (policy.max_attempts !== undefined) restart.maxAttempts = policy.max_attempts;
    if (policy.window !== undefined) restart.window = policy.window;
    deploy.restartPolicy = restart;
  }
  if (raw.update_config) deploy.updateConfig = updateConfig(raw.update_config);
  if (raw.rollback_config) {
    deploy.rollbackConfig = updateConfig(raw.rollback_config);
    if (raw.rollback_config.failure_action === 'rollback') {
      context.fail([...at, 'rollback_config', 'failure_action'], "expected 'continue' or 'pause' (a rollback cannot roll back), found 'rollback'");
    }
  }
  if (raw.placement) {
    deploy.placement = { constraints: raw.placement.constraints ?? [], preferences: raw.placement.preferences ?? [] };
  }
  return deploy;
}

/** Swarm's defaults, as the spec lists them. */
function updateConfig(raw: RawUpdateConfig): UpdateConfig {
  return {
    parallelism: raw.parallelism ?? 1,
    delay: raw.delay ?? '0s',
    failureAction: raw.failure_action ?? 'pause',
    monitor: raw.monitor ?? '0s',
    maxFailureRatio: raw.max_failure_ratio ?? 0,
    order: raw.order ?? 'stop-first',
  };
}

function cpuCount(value: number | string | undefined, path: readonly PathSegment[], context: ResolveContext): number | undefined {
  if (value === undefined) return undefined;
  const cpus = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isFinite(cpus) || cpus <= 0 || (typeof value === 'string' && value.trim() === '')) {
    context.fail(path, `expected a positive number of CPUs like 0.5 or '1.5', found '${String(value)}'`);
    return undefined;
  }
  return cpus;
}

function byteCount(value: number | string | undefined, path: readonly PathSegment[], context: ResolveContext): number | undefined {
  if (value === undefined) return undefined;
  const bytes = parseBytes(value);
  if (bytes === undefined) context.fail(path, `expected a byte size like 512M, 1g or 1073741824, found '${String(value)}'`);
  return bytes;
}
