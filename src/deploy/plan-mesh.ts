/**
 * The mesh part of the `up` plan: each meshed service's proxy container (create, recreate, start,
 * or remove when the service leaves the mesh), and the build of the proxy image when a proxy is
 * to be made and the image is missing. Pure, like the rest of the planner.
 */
import { FlotillaError } from '../core/errors.js';
import type { ObservedContainer } from '../runtime/driver.js';
import { meshSettingsOf } from '../spec/mesh.js';
import type { ServiceSpec, Stack } from '../spec/types.js';
import { checkedMeshPorts, meshProxyHash, meshProxyName } from './mesh.js';
import type { Observation } from './observation.js';
import type { Operation, ServiceSteps } from './plan.js';
import type { UpOptions } from './plan-up.js';

/** A service's proxy operations: `before` its replicas' operations, and `after` them. */
export interface MeshProxySteps {
  before: Operation[];
  after: Operation[];
}

/** Plans the proxy of one service; `existing` are the proxy containers observed for it. */
export function planMeshProxy(
  stack: Stack,
  service: ServiceSpec,
  existing: readonly ObservedContainer[],
  observation: Observation,
  options: UpOptions,
  imageRefreshed: boolean,
): MeshProxySteps {
  const name = meshProxyName(stack.name, service.name);
  const settings = meshSettingsOf(stack, service);
  if (!settings) return { before: existing.map((container) => removeProxy(container, 'not meshed')), after: [] };
  const mesh = observation.mesh;
  if (!mesh) throw new FlotillaError('INTERNAL', `service ${service.name} is meshed but the observation has no mesh`);

  const current = existing.find((container) => container.name === name);
  const before = existing.filter((container) => container !== current).map((container) => removeProxy(container, 'not the proxy of this project'));
  // The service's image as observed; not yet known when it is about to be built or pulled.
  const seen = imageRefreshed ? undefined : mesh.services[service.name];
  const hash = seen && meshProxyHash({ stack, service, ports: checkedMeshPorts(stack, service, seen.exposedPorts), version: seen.version }, mesh.image.tag);
  const target = {
    service: service.name,
    name,
    resource: `container ${name}`,
    role: 'mesh-proxy' as const,
    image: mesh.image.tag,
    serviceImage: observation.builds[service.name]?.tag ?? service.image,
  };
  if (!current) return { before, after: [{ type: 'create-container', ...target, cause: 'missing' }] };

  const recreate = options.noRecreate
    ? undefined
    : options.forceRecreate
      ? '--force-recreate'
      : hash === undefined
        ? 'image will be replaced'
        : current.configHash !== hash
          ? 'mesh config changed'
          : mesh.image.imageId !== undefined && current.imageId !== mesh.image.imageId
            ? 'image changed'
            : undefined;
  if (recreate) return { before, after: [{ type: 'recreate-container', ...target, containerId: current.id, cause: recreate }] };
  if (current.state === 'running' || current.state === 'restarting' || current.state === 'paused' || current.state === 'removing') return { before, after: [] };
  return { before, after: [{ type: 'start-container', ...target, containerId: current.id, cause: current.state }] };
}

/** The proxy image's build, when a proxy is to be created and the image is not there. */
export function planMeshImage(observation: Observation, services: readonly ServiceSteps[]): Operation[] {
  const image = observation.mesh?.image;
  if (!image || image.imageId !== undefined) return [];
  const creates = services.some((steps) => steps.operations.some((op) => op.role === 'mesh-proxy' && (op.type === 'create-container' || op.type === 'recreate-container')));
  return creates ? [{ type: 'build-image', role: 'mesh-image', name: image.tag, resource: `image ${image.tag}`, cause: 'missing' }] : [];
}

function removeProxy(container: ObservedContainer, cause: string): Operation {
  return {
    type: 'remove-container',
    service: container.service,
    name: container.name,
    resource: `container ${container.name}`,
    containerId: container.id,
    role: 'mesh-proxy',
    cause,
  };
}
