import { createHash } from 'node:crypto';
import { stableStringify } from '../core/stable-json.js';
import { meshSettingsOf } from '../spec/mesh.js';
import type { ServiceSpec, Stack } from '../spec/types.js';
import { deploymentEnvironment, telemetryEndpoint } from './telemetry-env.js';

/**
 * The hash of everything that shapes a service's containers. A container whose label differs
 * from it is recreated. Left out on purpose: the replica count (scaling adds or removes
 * containers, it does not change them), dependencies and profiles (they order and select, they do
 * not configure), the pull policy and the build section (the image id decides whether the image
 * changed), and the rollout settings (they describe how to update, not what runs).
 * Put in: the telemetry endpoint the service is pointed at and the deployment environment it
 * reports (or `false`), so turning telemetry off or moving the collector recreates; what `up`
 * injects from the image (revision, image id) needs no hash, since a new image recreates anyway.
 * Of the mesh settings, only whether the service is meshed (its replicas' network alias): the
 * proxy has a hash of its own (mesh.ts), so a change of resilience, or of the service's aliases
 * (which the proxy takes), recreates the proxy alone.
 */
export function serviceConfigHash(stack: Stack, service: ServiceSpec): string {
  const { replicas: _replicas, dependsOn: _dependsOn, profiles: _profiles, pullPolicy: _pull, build: _build, deploy, flotilla, ...rest } = service;
  const { mesh: _mesh, ...flotillaShaping } = flotilla;
  const meshed = meshSettingsOf(stack, service) !== undefined;
  // A meshed service's aliases are its proxy's (mesh.ts hashes them there): its replicas answer to one name.
  const shapedNetworks = meshed ? Object.fromEntries(Object.entries(rest.networks).map(([key, attachment]) => [key, { ...attachment, aliases: [] }])) : rest.networks;
  const shaping = { ...rest, networks: shapedNetworks, flotilla: flotillaShaping };
  const deployShaping = deploy && { resources: deploy.resources, restartPolicy: deploy.restartPolicy, labels: deploy.labels };
  // Networks and volumes by their engine names, so renaming one recreates the services on it.
  const networks = Object.keys(service.networks).map((key) => stack.networks[key]?.name ?? key);
  const volumes = service.volumes.flatMap((mount) =>
    mount.type === 'volume' && mount.source ? [stack.volumes[mount.source]?.name ?? mount.source] : [],
  );
  const endpoint = telemetryEndpoint(stack, service);
  const telemetry = endpoint === undefined ? false : { endpoint, environment: deploymentEnvironment(stack) };
  return createHash('sha256')
    .update(stableStringify({ shaping, deploy: deployShaping, networks, volumes, telemetry, ...(meshed && { mesh: true }) }))
    .digest('hex')
    .slice(0, 16);
}
