/**
 * A service's mesh proxy as a container request: the proxy image, its config in
 * FLOTILLA_MESH_CONFIG, a random token for its API in FLOTILLA_MESH_TOKEN, the service's name as its alias on every network the service is on, its
 * control API published on 127.0.0.1 at an ephemeral host port, and a healthcheck that passes once
 * the API answers (the proxy starts its API only after its listeners, which wait for the upstream
 * to resolve), so the service's dependents start only once it is reachable through the proxy.
 */
import { randomBytes } from 'node:crypto';
import { FLOTILLA_VERSION } from '../core/version.js';
import type { ContainerRequest, ImageInfo } from '../runtime/driver.js';
import { Label } from '../runtime/labels.js';
import type { ServiceSpec, Stack } from '../spec/types.js';
import { ImageLabel } from '../build/image-labels.js';
import { checkedMeshPorts, MESH_API_PORT, meshProxyConfig, meshProxyHash, meshProxyName } from './mesh.js';
import { COLLECTOR_HOST, telemetryEndpoint } from './telemetry-env.js';

/** The environment variable the proxy reads its config from. */
export const MESH_CONFIG_ENV = 'FLOTILLA_MESH_CONFIG';

/**
 * The environment variable with the token the proxy's API requires (src/mesh/api-http.ts
 * `MESH_TOKEN_ENV`). The API listens on every interface of the container, so without it any
 * container on the project's networks could change the faults. The control plane reads it from
 * the Engine. It is in no label and not in the config hash: a second `up` recreates nothing.
 */
export const MESH_TOKEN_ENV = 'FLOTILLA_MESH_TOKEN';

export interface MeshProxyRequestInput {
  stack: Stack;
  service: ServiceSpec;
  /** The image the service runs: its EXPOSE ports and version shape the config. */
  serviceImage: ImageInfo;
  /** The proxy image, by tag and id. */
  meshImage: { tag: string; id: string };
  extraLabels: Record<string, string>;
  /** The token of the proxy's API; a new random one unless given. */
  token?: string;
}

/** The create request of a service's proxy. */
export function meshProxyRequest(input: MeshProxyRequestInput): ContainerRequest {
  const { stack, service, serviceImage, meshImage } = input;
  const name = meshProxyName(stack.name, service.name);
  const inputs = {
    stack,
    service,
    ports: checkedMeshPorts(stack, service, serviceImage.exposedPorts ?? []),
    version: serviceImage.labels[ImageLabel.version] || 'unknown',
  };
  const config = meshProxyConfig(inputs);
  const endpoint = telemetryEndpoint(stack, service);
  const proxy: ServiceSpec = {
    name: service.name,
    image: meshImage.tag,
    environment: { [MESH_CONFIG_ENV]: JSON.stringify(config), [MESH_TOKEN_ENV]: input.token ?? randomBytes(32).toString('base64url') },
    ports: [{ target: MESH_API_PORT, hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }],
    expose: [],
    volumes: [],
    networks: Object.fromEntries(Object.keys(service.networks).map((key) => [key, { aliases: [] }])),
    dependsOn: {},
    // Bash's /dev/tcp: a connect to the API, with no process but the shell started. Failures in the
    // start period do not count (a slow start on a busy host), and the first success is healthy.
    healthcheck: {
      disable: false,
      test: ['CMD', 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${MESH_API_PORT}`],
      interval: '1s',
      timeout: '2s',
      retries: 3,
      startPeriod: '30s',
      startInterval: '1s',
    },
    restart: 'unless-stopped',
    replicas: 1,
    labels: {},
    stopGracePeriod: '5s',
    secrets: [],
    configs: [],
    extraHosts: endpoint !== undefined && new URL(endpoint).hostname === COLLECTOR_HOST ? [{ host: COLLECTOR_HOST, ip: 'host-gateway' }] : [],
    capAdd: [],
    capDrop: [],
    readOnly: false,
    privileged: false,
    tty: false,
    stdinOpen: false,
    ulimits: {},
    pullPolicy: 'never',
    profiles: [],
    flotilla: { tests: {} },
    extensions: {},
  };
  return {
    name,
    image: meshImage.id,
    service: proxy,
    // Not a replica of the service: it carries no replica label, and the runtime reports it as 0.
    replica: 0,
    labels: {
      ...input.extraLabels,
      [Label.project]: stack.name,
      [Label.version]: FLOTILLA_VERSION,
      [Label.service]: service.name,
      [Label.mesh]: 'proxy',
      [Label.configHash]: meshProxyHash(inputs, meshImage.tag),
      [Label.image]: meshImage.tag,
    },
    networks: Object.entries(service.networks).map(([key, attachment]) => ({ name: stack.networks[key]?.name ?? key, aliases: [...new Set([service.name, ...attachment.aliases])] })),
    volumeNames: {},
    files: [],
  };
}
