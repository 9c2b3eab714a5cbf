/**
 * The mesh part of the `up` plan: the proxy containers (create, recreate, start, or remove when no
 * group is theirs any more), and the build of the proxy image when a proxy is to be made and the
 * image is missing. Pure, like the rest of the planner.
 *
 * A proxy needs no replica to start (it answers 503 until a service's name resolves), so each
 * proxy has steps of its own, named after its container, that wait for nothing: they run at once,
 * beside the services' steps, and a service's dependents wait for its proxy too (conditions.ts).
 */
import { FlotillaError } from '../core/errors.js';
import type { ObservedContainer } from '../runtime/driver.js';
import { meshProxyServices } from '../runtime/labels.js';
import type { Stack } from '../spec/types.js';
import { meshGroups, meshProxyConfig, meshProxyHash, type MeshGroup, type MeshImageFacts } from './mesh-groups.js';
import type { Observation } from './observation.js';
import type { Operation, ServiceSteps } from './plan.js';
import type { UpOptions } from './plan-up.js';

/**
 * Plans the proxies of the meshed services: every proxy, whichever services `up` was asked for (a
 * proxy fronts services of other runs too, and one left out could leave a service with no name).
 * `proxies` are the proxy containers observed; `refreshed`, the services whose image is about to be
 * built or pulled (their ports and version are known only once it is: `up` then plans again).
 */
export function planMesh(stack: Stack, proxies: readonly ObservedContainer[], observation: Observation, options: UpOptions, refreshed: ReadonlySet<string>): MeshPlan {
  const steps: ServiceSteps[] = [];
  const mesh = observation.mesh;
  const factsOf = (service: string): MeshImageFacts | undefined => (refreshed.has(service) ? undefined : mesh?.services[service]);
  // Only proxies of this layout carry the services label; an older proxy (one per service) is replaced.
  const current = new Map(proxies.filter((container) => meshProxyServices(container).length > 0).map((container) => [container.name, meshProxyServices(container)]));
  const groups = mesh ? meshGroups(stack, factsOf, current) : [];
  // A proxy no group names any more is removed; its services' names go to the proxies planned beside it.
  for (const container of proxies) {
    if (!groups.some((group) => group.name === container.name)) steps.push({ service: container.name, waitFor: [], operations: [removeProxy(container)] });
  }
  for (const group of groups) {
    const operation = planGroup(stack, group, proxies.find((container) => container.name === group.name), observation, options, refreshed, factsOf);
    if (operation) steps.push({ service: group.name, waitFor: [], operations: [operation] });
  }
  const proxyOf = new Map(groups.flatMap((group) => group.services.map((service): [string, string] => [service, group.name])));
  return { steps, proxyOf };
}

/** The proxies' steps, and the proxy that fronts each meshed service (a dependent waits for its step). */
export interface MeshPlan {
  steps: ServiceSteps[];
  proxyOf: ReadonlyMap<string, string>;
}

function planGroup(
  stack: Stack,
  group: MeshGroup,
  current: ObservedContainer | undefined,
  observation: Observation,
  options: UpOptions,
  refreshed: ReadonlySet<string>,
  factsOf: (service: string) => MeshImageFacts | undefined,
): Operation | undefined {
  const mesh = observation.mesh;
  if (!mesh) throw new FlotillaError('INTERNAL', `mesh proxy ${group.name} is planned but the observation has no mesh`);
  const target = {
    name: group.name,
    resource: `container ${group.name}`,
    role: 'mesh-proxy' as const,
    image: mesh.image.tag,
    meshServices: Object.fromEntries(group.services.map((service) => [service, observation.builds[service]?.tag ?? stack.services[service]?.image ?? ''])),
  };
  // Computed even when the proxy exists: a meshed service with no port is refused before anything runs.
  const hash = meshProxyHash(stack, meshProxyConfig(stack, group, factsOf), mesh.image.tag);
  if (!current) return { type: 'create-container', ...target, cause: 'missing' };
  // Even with --no-recreate: a proxy without one of its services would leave that service with no name.
  const servicesChanged = meshProxyServices(current).join(',') !== group.services.join(',');
  const recreate = servicesChanged
    ? 'its services changed'
    : options.noRecreate
    ? undefined
    : options.forceRecreate
      ? '--force-recreate'
      : group.services.some((service) => refreshed.has(service))
        ? 'image will be replaced'
        : current.configHash !== hash
          ? 'mesh config changed'
          : mesh.image.imageId !== undefined && current.imageId !== mesh.image.imageId
            ? 'image changed'
            : undefined;
  if (recreate) return { type: 'recreate-container', ...target, containerId: current.id, cause: recreate };
  if (current.state === 'running' || current.state === 'restarting' || current.state === 'paused' || current.state === 'removing') return undefined;
  return { type: 'start-container', ...target, containerId: current.id, cause: current.state };
}

/** The proxy image's build, when a proxy is to be created and the image is not there. */
export function planMeshImage(observation: Observation, services: readonly ServiceSteps[]): Operation[] {
  const image = observation.mesh?.image;
  if (!image || image.imageId !== undefined) return [];
  const creates = services.some((steps) => steps.operations.some((op) => op.role === 'mesh-proxy' && (op.type === 'create-container' || op.type === 'recreate-container')));
  return creates ? [{ type: 'build-image', role: 'mesh-image', name: image.tag, resource: `image ${image.tag}`, cause: 'missing' }] : [];
}

function removeProxy(container: ObservedContainer): Operation {
  return {
    type: 'remove-container',
    name: container.name,
    resource: `container ${container.name}`,
    containerId: container.id,
    role: 'mesh-proxy',
    cause: 'no longer a proxy of this mesh',
  };
}
