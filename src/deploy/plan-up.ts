/**
 * The `up` planner: a pure function of (stack, observation, options) → plan. It never talks to a
 * runtime, so every decision it makes is tested as text without Docker.
 */
import { FlotillaError } from '../core/errors.js';
import { topologicalOrder } from '../graph/index.js';
import type { ObservedContainer } from '../runtime/driver.js';
import { isMeshProxy } from '../runtime/labels.js';
import type { ServiceSpec, Stack } from '../spec/types.js';
import { serviceConfigHash } from './config-hash.js';
import { planMesh, planMeshImage } from './plan-mesh.js';
import { containerName, isJob } from './names.js';
import type { Observation } from './observation.js';
import type { Operation, Plan, ServiceSteps } from './plan.js';
import { checkPorts } from './port-conflicts.js';

export interface UpOptions {
  /** Services to bring up (the loader already added their dependencies); empty: all. */
  services: readonly string[];
  forceRecreate: boolean;
  noRecreate: boolean;
  removeOrphans: boolean;
  /** Build images even when they exist (`--build`). */
  build: boolean;
  /** The images were built and pulled earlier in this run (`up` plans again once they are there): plan none. */
  imagesReady?: boolean;
}

/** Plans `up`: what to pull, build, create, recreate, start and remove. */
export function planUp(stack: Stack, observation: Observation, options: UpOptions): Plan {
  const selected = options.services.length > 0 ? [...options.services] : Object.keys(stack.services);
  const order = topologicalOrder(dependencyEdges(stack)).filter((name) => selected.includes(name));
  const images = planImages(stack, observation, order, options);
  const refreshedImages = new Set(images.flatMap((op) => op.service ?? []));

  // A mesh proxy is no service's replica: the proxies are planned on their own.
  const byService = groupByService(observation.state.containers.filter((container) => !isMeshProxy(container)));
  const mesh = planMesh(stack, observation.state.containers.filter(isMeshProxy), observation, options, refreshedImages);
  const replicas: ServiceSteps[] = order.map((name) => {
    const service = serviceOf(stack, name);
    return {
      service: name,
      waitFor: Object.entries(service.dependsOn)
        .filter(([dependency]) => stack.services[dependency] !== undefined)
        .map(([dependency, { condition }]) => {
          const proxy = condition === 'service_completed_successfully' ? undefined : mesh.proxyOf.get(dependency);
          return { service: dependency, condition, ...(proxy !== undefined && { proxy }) };
        }),
      operations: planReplicas(stack, service, byService.get(name) ?? [], observation, options, refreshedImages.has(name)),
    };
  });
  addDependencyRestarts(stack, replicas, byService);
  const services = [...mesh.steps, ...replicas];
  const prepare = [...images, ...planMeshImage(observation, services), ...planNetworksAndVolumes(stack, observation, order)];
  checkPorts(stack, services, observation);

  const orphanContainers = observation.state.containers.filter(
    (container) => !isMeshProxy(container) && !stack.services[container.service] && !stack.disabledServices.includes(container.service),
  );
  const cleanup = options.removeOrphans && orphanContainers.length > 0 ? [orphanContainers.map(removeOrphan)] : [];
  return {
    project: stack.name,
    prepare,
    services: services.filter((steps) => steps.operations.length > 0),
    cleanup,
    orphans: options.removeOrphans ? [] : orphanContainers.map((container) => container.name).sort(),
  };
}

/** Edges service → the services it depends on that exist in the stack. */
export function dependencyEdges(stack: Stack): Record<string, string[]> {
  const edges: Record<string, string[]> = {};
  for (const [name, service] of Object.entries(stack.services)) {
    edges[name] = Object.keys(service.dependsOn).filter((dependency) => stack.services[dependency] !== undefined);
  }
  return edges;
}

function planImages(stack: Stack, observation: Observation, order: string[], options: UpOptions): Operation[] {
  if (options.imagesReady) return [];
  const operations: Operation[] = [];
  const planned = new Set<string>();
  for (const name of order) {
    const service = serviceOf(stack, name);
    const build = observation.builds[name];
    if (service.build && build) {
      // Built services are named by their build version: a version that exists is never rebuilt.
      if (options.build || !build.imageId) {
        const cause = options.build ? '--build' : 'no image for this build version';
        operations.push({ type: 'build-image', service: name, name: build.tag, resource: `image ${build.tag}`, cause });
      }
      continue;
    }
    if (planned.has(service.image)) continue;
    const present = observation.images[service.image] !== undefined;
    const image = { service: name, name: service.image, resource: `image ${service.image}` };
    if (service.build && (options.build || service.pullPolicy === 'build' || !present)) {
      operations.push({ type: 'build-image', ...image, cause: options.build ? '--build' : present ? 'pull_policy: build' : 'missing' });
    } else if (service.pullPolicy === 'always' || !present) {
      if (service.pullPolicy === 'never') {
        throw new FlotillaError('IMAGE_NOT_FOUND', `service ${name}: image ${service.image} is not present and pull_policy is never`, {
          hint: 'Build or load the image first, or change pull_policy.',
        });
      }
      operations.push({ type: 'pull-image', ...image, cause: present ? 'pull_policy: always' : 'missing' });
    } else {
      continue;
    }
    planned.add(service.image);
  }
  return operations;
}

function planNetworksAndVolumes(stack: Stack, observation: Observation, order: string[]): Operation[] {
  const networkKeys = new Set<string>();
  const volumeKeys = new Set<string>();
  for (const name of order) {
    const service = serviceOf(stack, name);
    for (const key of Object.keys(service.networks)) networkKeys.add(key);
    for (const mount of service.volumes) if (mount.type === 'volume' && mount.source) volumeKeys.add(mount.source);
  }
  const operations: Operation[] = [];
  const existingNetworks = new Set(observation.state.networks.map((network) => network.name));
  for (const key of [...networkKeys].sort()) {
    const network = stack.networks[key];
    if (!network) continue;
    if (network.external) {
      if (!observation.externalNetworks.includes(network.name)) {
        throw new FlotillaError('NETWORK_NOT_FOUND', `network ${network.name} is declared external but does not exist`, {
          hint: `Create it with \`docker network create ${network.name}\`.`,
        });
      }
    } else if (!existingNetworks.has(network.name)) {
      operations.push({ type: 'create-network', resource: `network ${network.name}`, name: network.name, cause: 'missing' });
    }
  }
  const existingVolumes = new Set(observation.state.volumes.map((volume) => volume.name));
  for (const key of [...volumeKeys].sort()) {
    const volume = stack.volumes[key];
    if (!volume) continue;
    if (volume.external) {
      if (!observation.externalVolumes.includes(volume.name)) {
        throw new FlotillaError('VOLUME_NOT_FOUND', `volume ${volume.name} is declared external but does not exist`, {
          hint: `Create it with \`docker volume create ${volume.name}\`.`,
        });
      }
    } else if (!existingVolumes.has(volume.name)) {
      operations.push({ type: 'create-volume', resource: `volume ${volume.name}`, name: volume.name, cause: 'missing' });
    }
  }
  return operations;
}

function planReplicas(
  stack: Stack,
  service: ServiceSpec,
  existing: ObservedContainer[],
  observation: Observation,
  options: UpOptions,
  imageRefreshed: boolean,
): Operation[] {
  const hash = serviceConfigHash(stack, service);
  const build = service.build ? observation.builds[service.name] : undefined;
  const image = build?.tag ?? service.image;
  const imageId = build ? build.imageId : observation.images[service.image];
  const operations: Operation[] = [];
  const byReplica = new Map(existing.map((container) => [container.replica, container]));
  for (let replica = 1; replica <= service.replicas; replica++) {
    const name = containerName(stack.name, service.name, replica);
    const target = { service: service.name, replica, name, resource: `container ${name}` };
    const container = byReplica.get(replica);
    if (!container) {
      operations.push({ type: 'create-container', ...target, image, cause: 'missing' });
      continue;
    }
    const recreateCause = options.noRecreate
      ? undefined
      : options.forceRecreate
        ? '--force-recreate'
        : container.configHash !== hash
          ? 'config changed'
          : imageRefreshed
            ? 'image will be replaced'
            : imageId !== undefined && container.imageId !== imageId
              ? 'image changed'
              : undefined;
    if (recreateCause) {
      operations.push({ type: 'recreate-container', ...target, image, containerId: container.id, cause: recreateCause });
    } else if (needsStart(stack, container)) {
      operations.push({ type: 'start-container', ...target, containerId: container.id, cause: container.state });
    }
  }
  for (const container of existing.filter((c) => c.replica > service.replicas || c.replica < 1)) {
    operations.push({
      type: 'remove-container',
      service: service.name,
      replica: container.replica,
      name: container.name,
      resource: `container ${container.name}`,
      containerId: container.id,
      cause: `scaled to ${service.replicas}`,
    });
  }
  return operations;
}

/** A stopped container is started again, unless it is a job that already succeeded. */
function needsStart(stack: Stack, container: ObservedContainer): boolean {
  if (container.state === 'running' || container.state === 'restarting' || container.state === 'paused') return false;
  if (container.state === 'removing') return false;
  const completed = container.state === 'exited' && container.exitCode === 0;
  return !(completed && isJob(stack.services, container.service));
}

const REPLACING = new Set(['create-container', 'recreate-container', 'restart-container']);

/** Services that ask for `restart: true` on a dependency are restarted when it is replaced. */
function addDependencyRestarts(stack: Stack, services: ServiceSteps[], byService: Map<string, ObservedContainer[]>): void {
  const replaced = new Set<string>();
  for (const steps of services) {
    // Replica steps only: the mesh proxies have steps of their own (a replaced proxy keeps the service's name).
    if (steps.operations.some((op) => REPLACING.has(op.type))) replaced.add(steps.service);
    if (steps.operations.length > 0) continue;
    const service = serviceOf(stack, steps.service);
    const trigger = Object.entries(service.dependsOn).find(([dependency, { restart }]) => restart && replaced.has(dependency));
    if (!trigger) continue;
    for (const container of byService.get(steps.service) ?? []) {
      if (container.state !== 'running') continue;
      steps.operations.push({
        type: 'restart-container',
        service: steps.service,
        replica: container.replica,
        name: container.name,
        resource: `container ${container.name}`,
        containerId: container.id,
        cause: `dependency ${trigger[0]} replaced`,
      });
    }
    if (steps.operations.length > 0) replaced.add(steps.service);
  }
}

function removeOrphan(container: ObservedContainer): Operation {
  return {
    type: 'remove-container',
    service: container.service,
    replica: container.replica,
    name: container.name,
    resource: `container ${container.name}`,
    containerId: container.id,
    cause: `orphan: service ${container.service} is not in the stack`,
  };
}

function groupByService(containers: ObservedContainer[]): Map<string, ObservedContainer[]> {
  const groups = new Map<string, ObservedContainer[]>();
  for (const container of containers) {
    const group = groups.get(container.service) ?? [];
    group.push(container);
    groups.set(container.service, group);
  }
  for (const group of groups.values()) group.sort((a, b) => a.replica - b.replica);
  return groups;
}

function serviceOf(stack: Stack, name: string): ServiceSpec {
  const service = stack.services[name];
  if (!service) throw new FlotillaError('USAGE', `no such service: ${name}`);
  return service;
}
