/**
 * Planners for `down`, `stop`, `start` and `restart`: pure functions, like `planUp`.
 *
 * A mesh proxy fronts several services, so it goes with the whole project (`down`, and `stop`,
 * `restart` with no service named), never with one service: stopping one service must not cut
 * the others off. `start` starts every stopped proxy.
 */
import type { ObservedContainer, ObservedState } from '../runtime/driver.js';
import { isMeshProxy, meshProxyServices } from '../runtime/labels.js';
import type { Stack } from '../spec/types.js';
import type { Operation, Plan } from './plan.js';
import { dependencyEdges } from './plan-up.js';
import { topologicalOrder } from '../graph/index.js';
import { isJob } from './names.js';

export interface DownOptions {
  /** Also remove the named volumes the stack declares. */
  volumes: boolean;
  removeOrphans: boolean;
}

/** Plans `down`: containers removed dependents first, then networks, then (with -v) volumes. */
export function planDown(stack: Stack, state: ObservedState, options: DownOptions): Plan {
  const isOrphan = (container: ObservedContainer) => !isMeshProxy(container) && stack.services[container.service] === undefined;
  const orphans = state.containers.filter(isOrphan);
  const proxies = state.containers.filter(isMeshProxy).sort(byName).map((c) => containerOp('remove-container', c, 'down'));
  const phases = [
    proxies,
    ...dependentsFirst(stack, Object.keys(stack.services)).map((names) =>
      state.containers.filter((c) => !isMeshProxy(c) && names.includes(c.service)).sort(byName).map((c) => containerOp('remove-container', c, 'down')),
    ),
  ];
  if (options.removeOrphans && orphans.length > 0) phases.unshift(orphans.sort(byName).map((c) => containerOp('remove-container', c, 'orphan')));

  const declaredNetworks = new Set(Object.values(stack.networks).filter((n) => !n.external).map((n) => n.name));
  const networks = state.networks
    .filter((network) => declaredNetworks.has(network.name))
    .map((network): Operation => ({ type: 'remove-network', resource: `network ${network.name}`, name: network.name, cause: 'down' }));
  const declaredVolumes = new Set(Object.values(stack.volumes).filter((v) => !v.external).map((v) => v.name));
  const volumes = options.volumes
    ? state.volumes
        .filter((volume) => declaredVolumes.has(volume.name))
        .map((volume): Operation => ({ type: 'remove-volume', resource: `volume ${volume.name}`, name: volume.name, cause: '--volumes' }))
    : [];
  const cleanup = [...phases, networks, volumes].filter((phase) => phase.length > 0);
  return {
    project: stack.name,
    prepare: [],
    services: [],
    cleanup,
    orphans: options.removeOrphans ? [] : orphans.map((c) => c.name).sort(),
  };
}

/** Plans `stop`: running containers of the named services (all when none), dependents first. */
export function planStop(stack: Stack, state: ObservedState, services: readonly string[]): Plan {
  const names = services.length > 0 ? [...services] : Object.keys(stack.services);
  const running = (c: ObservedContainer) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused';
  const proxies = services.length > 0 ? [] : state.containers.filter((c) => isMeshProxy(c) && running(c)).sort(byName).map((c) => containerOp('stop-container', c, 'stop'));
  const cleanup = [
    ...dependentsFirst(stack, names).map((phase) =>
      state.containers
        .filter((c) => !isMeshProxy(c) && phase.includes(c.service) && running(c))
        .sort(byName)
        .map((c) => containerOp('stop-container', c, 'stop')),
    ),
    proxies,
  ].filter((phase) => phase.length > 0);
  return { project: stack.name, prepare: [], services: [], cleanup, orphans: [] };
}

/** Plans `start`: stopped containers of the named services, dependencies first, honouring their conditions. */
export function planStart(stack: Stack, state: ObservedState, services: readonly string[]): Plan {
  const names = services.length > 0 ? [...services] : Object.keys(stack.services);
  const order = topologicalOrder(dependencyEdges(stack)).filter((name) => names.includes(name));
  const stopped = (c: ObservedContainer) => c.state === 'exited' || c.state === 'created' || c.state === 'dead';
  // Every stopped proxy starts, in steps of its own that wait for nothing (a proxy needs no replica,
  // and starting one cuts nobody off); a dependent of a meshed service waits for its proxy's step.
  const proxies = state.containers.filter((c) => isMeshProxy(c) && stopped(c)).sort(byName);
  const proxyOf = new Map(state.containers.filter(isMeshProxy).flatMap((c) => meshProxyServices(c).map((service): [string, string] => [service, c.name])));
  const proxySteps = proxies.map((c) => ({ service: c.name, waitFor: [], operations: [containerOp('start-container', c, c.state)] }));
  const steps = order.map((name) => ({
    service: name,
    waitFor: Object.entries(stack.services[name]?.dependsOn ?? {})
      .filter(([dependency]) => stack.services[dependency] !== undefined)
      .map(([dependency, { condition }]) => {
        const proxy = condition === 'service_completed_successfully' ? undefined : proxyOf.get(dependency);
        return { service: dependency, condition, ...(proxy !== undefined && { proxy }) };
      }),
    operations: state.containers
      .filter((c) => !isMeshProxy(c) && c.service === name && stopped(c))
      .filter((c) => !(c.state === 'exited' && c.exitCode === 0 && isJob(stack.services, name)))
      .sort(byName)
      .map((c) => containerOp('start-container', c, c.state)),
  }));
  return { project: stack.name, prepare: [], services: [...proxySteps, ...steps.filter((s) => s.operations.length > 0)], cleanup: [], orphans: [] };
}

/** Plans `restart`: every container of the named services (all when none), at once. */
export function planRestart(stack: Stack, state: ObservedState, services: readonly string[]): Plan {
  const names = new Set(services.length > 0 ? services : Object.keys(stack.services));
  const chosen = (c: ObservedContainer) => (isMeshProxy(c) ? services.length === 0 : names.has(c.service));
  const ops = state.containers.filter(chosen).sort(byName).map((c) => containerOp('restart-container', c, 'restart'));
  return { project: stack.name, prepare: [], services: [], cleanup: ops.length > 0 ? [ops] : [], orphans: [] };
}

/**
 * Groups services so that each group only holds services whose dependents are in earlier groups:
 * stopping in this order never leaves a running service without what it depends on.
 */
function dependentsFirst(stack: Stack, names: string[]): string[][] {
  const edges = dependencyEdges(stack);
  const level = new Map<string, number>();
  // Visiting in reverse topological order means every dependent has its level before its dependencies.
  for (const name of topologicalOrder(edges).reverse()) {
    const dependents = Object.keys(edges).filter((other) => edges[other]?.includes(name));
    level.set(name, dependents.length === 0 ? 0 : Math.max(...dependents.map((d) => (level.get(d) ?? 0) + 1)));
  }
  const phases: string[][] = [];
  for (const name of names) {
    const index = level.get(name) ?? 0;
    (phases[index] ??= []).push(name);
  }
  return phases.filter((phase) => phase !== undefined);
}

function containerOp(type: Operation['type'], container: ObservedContainer, cause: string): Operation {
  return {
    type,
    service: container.service,
    replica: container.replica,
    name: container.name,
    resource: `container ${container.name}`,
    containerId: container.id,
    cause,
  };
}

function byName(a: ObservedContainer, b: ObservedContainer): number {
  return a.name.localeCompare(b.name);
}
