/**
 * Which services the mesh covers, and with what settings: the one rule every part of Flotilla
 * (up, the control API, chaos) applies to the resolved stack.
 */
import type { ServiceMeshSettings, ServiceSpec, Stack } from './types.js';

/**
 * The mesh settings of a service, or undefined when it is not meshed. Its own `x-flotilla.mesh`
 * wins (`true` is empty settings); else the top-level `mesh: true` covers it, except a service
 * that shares another's network namespace (it has no network name for a proxy to take; the
 * loader refuses an explicit `mesh` on one) and a one-off job (some service waits for it to
 * complete: nothing calls it).
 */
export function meshSettingsOf(stack: Stack, service: ServiceSpec): ServiceMeshSettings | undefined {
  const own = service.flotilla.mesh;
  if (own === false || service.networkMode !== undefined) return undefined;
  if (own !== undefined) return own;
  if (stack.flotilla.mesh !== true) return undefined;
  const job = Object.values(stack.services).some((other) => other.dependsOn[service.name]?.condition === 'service_completed_successfully');
  return job ? undefined : { ports: {} };
}

/** Names of the meshed services among `names` (all when omitted), sorted. */
export function meshedServices(stack: Stack, names: readonly string[] = Object.keys(stack.services)): string[] {
  return names.filter((name) => {
    const service = stack.services[name];
    return service !== undefined && meshSettingsOf(stack, service) !== undefined;
  }).sort();
}
