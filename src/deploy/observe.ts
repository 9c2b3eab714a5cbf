import { resolveBuilds, type ResolvedBuild } from '../build/builder.js';
import type { Driver } from '../runtime/driver.js';
import { isHostPortTaken } from '../runtime/host-ports.js';
import type { Stack } from '../spec/types.js';
import type { HostPortUse, Observation } from './observation.js';

/**
 * Gathers what the planner needs, with every look-up in parallel: the project's objects, the
 * images the selected services name, the build version of each service that builds (and whether
 * it is built), the external networks and volumes, and the fixed host ports the services publish
 * that something already holds. Returns the resolved builds too, for the builder.
 */
export async function observe(driver: Driver, stack: Stack, selected: readonly string[]): Promise<Observation & { resolvedBuilds: ResolvedBuild[] }> {
  const names = selected.length > 0 ? selected : Object.keys(stack.services);
  const services = names.flatMap((name) => stack.services[name] ?? []);
  const imageRefs = [...new Set(services.filter((service) => !service.build).map((service) => service.image))];
  const externalNetworks = Object.values(stack.networks).filter((network) => network.external).map((network) => network.name);
  const externalVolumes = Object.values(stack.volumes).filter((volume) => volume.external).map((volume) => volume.name);
  const wanted = services.flatMap((service) =>
    service.ports
      .filter((port) => port.published !== undefined && /^[1-9]\d*$/.test(port.published))
      .map((port) => ({ hostIp: port.hostIp ?? '', port: Number(port.published), protocol: port.protocol })),
  );

  const [state, resolvedBuilds, imageIds, networks, volumes, portsInUse] = await Promise.all([
    driver.observe(stack.name),
    resolveBuilds(driver, stack, names),
    Promise.all(imageRefs.map(async (ref) => (await driver.inspectImage(ref))?.id)),
    Promise.all(externalNetworks.map(async (name) => ((await driver.inspectNetwork(name)) ? name : undefined))),
    Promise.all(externalVolumes.map(async (name) => ((await driver.inspectVolume(name)) ? name : undefined))),
    wanted.length > 0 ? portsHeld(driver, wanted) : Promise.resolve([]),
  ]);
  const images: Record<string, string | undefined> = {};
  imageRefs.forEach((ref, index) => (images[ref] = imageIds[index]));
  const builds = Object.fromEntries(resolvedBuilds.map(({ service, tag, imageId }) => [service, { tag, ...(imageId ? { imageId } : {}) }]));
  return {
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
