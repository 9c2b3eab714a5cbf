/**
 * A test run as a stack of its own: fresh copies of the services the suite needs (and what they
 * depend on) plus the suite's container, under a project name no other run shares. The same plan
 * engine as `up` then starts it in dependency order, honouring health checks, and `down` removes
 * it. Nothing it runs can see another run: its own network, no published ports, and named volumes
 * replaced by tmpfs, so every run starts from empty data and leaves none behind.
 */
import { withDependencies } from '../graph/index.js';
import type { Dependency, ServiceSpec, ServiceVolume, Stack, TestSuiteSpec } from '../spec/types.js';
import type { MatrixCell } from './types.js';

/** Name of the suite's own service inside a run stack (a service of the stack may be needed too). */
export function suiteServiceName(suite: string): string {
  return `test-${suite}`.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
}

export interface RunStackInput {
  stack: Stack;
  /** Project name of the run: unique per run of every invocation. */
  project: string;
  service: string;
  suite: TestSuiteSpec;
  cell: MatrixCell;
  /** Image id the suite runs in. */
  suiteImage: string;
  /** Image id per needed service (the closure of `needs` over depends_on). */
  neededImages: Record<string, string>;
}

/** The services a suite needs, with everything they depend on. */
export function neededServices(stack: Stack, suite: TestSuiteSpec): string[] {
  const edges: Record<string, string[]> = {};
  for (const [name, service] of Object.entries(stack.services)) edges[name] = Object.keys(service.dependsOn).filter((d) => stack.services[d]);
  return [...withDependencies(edges, suite.needs)].sort();
}

/** The stack one run brings up: needed services first, then the suite, which waits until they are ready. */
export function runStack(input: RunStackInput): Stack {
  const { stack, cell } = input;
  const base = stack.services[input.service];
  if (!base) throw new Error(`no service ${input.service}`);
  const services: Record<string, ServiceSpec> = {};
  for (const name of neededServices(stack, input.suite)) {
    const needed = stack.services[name];
    const image = input.neededImages[name];
    if (!needed || !image) continue;
    services[name] = isolate({ ...needed, image, environment: { ...needed.environment, ...cell } });
  }
  const suiteName = suiteServiceName(input.suite.name);
  const waits: Record<string, Dependency> = {};
  for (const name of input.suite.needs) {
    const needed = services[name];
    if (!needed) continue;
    const checked = needed.healthcheck !== undefined && !needed.healthcheck.disable;
    waits[name] = { condition: checked ? 'service_healthy' : 'service_started', restart: false, required: true };
  }
  // The suite runs as the service does (environment, user, mounts), but as a job of its own.
  const { workingDir: _workingDir, networkMode: _networkMode, ...rest } = base;
  const workingDir = input.suite.workingDir ?? base.workingDir;
  services[suiteName] = isolate({
    ...rest,
    name: suiteName,
    image: input.suiteImage,
    command: input.suite.command,
    environment: { ...base.environment, ...input.suite.environment, ...cell },
    dependsOn: waits,
    // The suite's container is a job: it runs once, and its exit code is the verdict.
    restart: 'no',
    healthcheck: { disable: true },
    replicas: 1,
    ...(workingDir ? { workingDir } : {}),
  });
  // A suite that needs no service has nothing to be isolated from on a network: the Engine's default
  // bridge serves it, and a network of its own would only cost a create and a remove per run.
  const alone = Object.keys(services).length === 1;
  const suiteService = services[suiteName];
  if (alone && suiteService) services[suiteName] = { ...suiteService, networks: {}, networkMode: 'bridge' };
  const network = { name: `${input.project}_default`, external: false, driver: 'bridge', driverOpts: {}, internal: false, attachable: false, enableIpv6: false, labels: {} };
  return {
    ...stack,
    // A run talks to its services directly: no mesh proxies in test runs.
    flotilla: { ...stack.flotilla, mesh: false },
    name: input.project,
    services,
    disabledServices: [],
    networks: alone ? {} : { default: network },
    volumes: {},
  };
}

/** A service as a run needs it: on the run's network only, no host ports, no named volumes, no build. */
function isolate(service: ServiceSpec): ServiceSpec {
  const { build: _build, ...rest } = service;
  return {
    ...rest,
    ports: [],
    networks: service.networkMode ? {} : { default: { aliases: [] } },
    volumes: service.volumes.map(freshVolume),
    replicas: 1,
    pullPolicy: 'never',
    flotilla: { ...service.flotilla, mesh: false },
  };
}

/** Named volumes hold data that would leak between runs: each run gets an empty tmpfs instead. */
function freshVolume(volume: ServiceVolume): ServiceVolume {
  return volume.type === 'volume' ? { type: 'tmpfs', target: volume.target } : volume;
}
