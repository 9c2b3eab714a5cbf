import { resolveBuilds, type ResolvedBuild } from '../build/builder.js';
import { ImageLabel } from '../build/image-labels.js';
import type { Driver } from '../runtime/driver.js';
import { isHostPortTaken } from '../runtime/host-ports.js';
import { meshedServices } from '../spec/mesh.js';
import type { Stack } from '../spec/types.js';
import { locateMeshImage, type MeshImageSource } from './mesh-image.js';
import type { HostPortUse, MeshObservation, Observation } from './observation.js';

/** Options of observe. */
export interface ObserveOptions {
  /** The proxy image; by default the one of the running Flotilla's bundle (asked for only when a service is meshed). */
  meshImage?: MeshImageSource | undefined;
}

/**
 * Gathers what the planner needs, with every look-up in parallel: the project's objects, the
 * images the selected services name, the build version of each service that builds (and whether
 * it is built), the external networks and volumes, and the fixed host ports the services publish
 * that something already holds. Returns the resolved builds too, for the builder.
 */
export async function observe(
  driver: Driver,
  stack: Stack,
  selected: readonly string[],
  options: ObserveOptions = {},
): Promise<Observation & { resolvedBuilds: ResolvedBuild[]; meshImage?: MeshImageSource }> {
  const names = selected.length > 0 ? selected : Object.keys(stack.services);
  // A proxy fronts several services, so its config takes the images of every meshed service, selected or not.
  const meshed = meshedServices(stack);
  const looked = [...new Set([...names, ...meshed])];
  const services = names.flatMap((name) => stack.services[name] ?? []);
  const imageServices = looked.flatMap((name) => stack.services[name] ?? []);
  const imageRefs = [...new Set(imageServices.filter((service) => !service.build).map((service) => service.image))];
  const externalNetworks = Object.values(stack.networks).filter((network) => network.external).map((network) => network.name);
  const externalVolumes = Object.values(stack.volumes).filter((volume) => volume.external).map((volume) => volume.name);
  const wanted = services.flatMap((service) =>
    service.ports
      .filter((port) => port.published !== undefined && /^[1-9]\d*$/.test(port.published))
      .map((port) => ({ hostIp: port.hostIp ?? '', port: Number(port.published), protocol: port.protocol })),
  );

  const [state, resolvedBuilds, imageIds, networks, volumes, portsInUse] = await Promise.all([
    driver.observe(stack.name),
    resolveBuilds(driver, stack, looked),
    Promise.all(imageRefs.map(async (ref) => (await driver.inspectImage(ref))?.id)),
    Promise.all(externalNetworks.map(async (name) => ((await driver.inspectNetwork(name)) ? name : undefined))),
    Promise.all(externalVolumes.map(async (name) => ((await driver.inspectVolume(name)) ? name : undefined))),
    wanted.length > 0 ? portsHeld(driver, wanted) : Promise.resolve([]),
  ]);
  const images: Record<string, string | undefined> = {};
  imageRefs.forEach((ref, index) => (images[ref] = imageIds[index]));
  const builds = Object.fromEntries(resolvedBuilds.map(({ service, tag, imageId }) => [service, { tag, ...(imageId ? { imageId } : {}) }]));
  const meshImage = meshed.length > 0 ? (options.meshImage ?? locateMeshImage()) : undefined;
  const mesh = meshImage && (await observeMesh(driver, meshed, meshImage, (name) => builds[name]?.imageId ?? images[stack.services[name]?.image ?? '']));
  return {
    ...(mesh && { mesh }),
    ...(meshImage && { meshImage }),
    state,
    images,
    builds,
    resolvedBuilds,
    externalNetworks: networks.filter((name): name is string => name !== undefined),
    externalVolumes: volumes.filter((name): name is string => name !== undefined),
    portsInUse,
  };
}

/** Ports held by containers (named), then by other processes on this host (probed by binding). */
async function portsHeld(driver: Driver, wanted: { hostIp: string; port: number; protocol: string }[]): Promise<HostPortUse[]> {
  const published = await driver.publishedPorts();
  const uses: HostPortUse[] = published.map((port) => ({
    hostIp: port.hostIp,
    port: port.hostPort,
    protocol: port.protocol,
    holder: `container ${port.containerName}`,
    containerId: port.containerId,
  }));
  const unattributed = wanted.filter((want) => !uses.some((use) => use.port === want.port && use.protocol === want.protocol));
  const probes = await Promise.all(unattributed.map((want) => isHostPortTaken(want.hostIp, want.port, want.protocol)));
  unattributed.forEach((want, index) => {
    if (probes[index]) uses.push({ ...want, holder: 'a process on this host' });
  });
  return uses;
}

/** The proxy image, and the image each meshed service runs (its EXPOSE ports and version), when there. */
async function observeMesh(driver: Driver, meshed: string[], source: MeshImageSource, imageOf: (service: string) => string | undefined): Promise<MeshObservation> {
  const [proxyImage, ...serviceImages] = await Promise.all([
    driver.inspectImage(source.tag),
    ...meshed.map(async (name) => {
      const id = imageOf(name);
      return id === undefined ? undefined : driver.inspectImage(id);
    }),
  ]);
  const services: MeshObservation['services'] = {};
  meshed.forEach((name, index) => {
    const image = serviceImages[index];
    if (image) services[name] = { imageId: image.id, exposedPorts: image.exposedPorts ?? [], version: image.labels[ImageLabel.version] || 'unknown' };
  });
  return { image: { tag: source.tag, ...(proxyImage && { imageId: proxyImage.id }) }, services };
}
