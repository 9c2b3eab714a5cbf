/**
 * A mesh proxy as a container request: the proxy image, its config in FLOTILLA_MESH_CONFIG, a
 * random token for its API in FLOTILLA_MESH_TOKEN, its services' names as its aliases on the
 * networks they are on, its control API published on 127.0.0.1 at an ephemeral host port, and a
 * healthcheck that passes once the API answers (the proxy starts its API only after its
 * listeners), so the dependents of its services start only once they are reachable through it.
 */
import { randomBytes } from 'node:crypto';
import { FlotillaError } from '../core/errors.js';
import { FLOTILLA_VERSION } from '../core/version.js';
import { parseMeshProxyConfig } from '../mesh/proxy-config.js';
import type { ContainerRequest } from '../runtime/driver.js';
import { Label, MESH_PROXY_SERVICE } from '../runtime/labels.js';
import type { ServiceSpec, Stack } from '../spec/types.js';
import { MESH_API_PORT } from './mesh.js';
import { meshProxyConfig, meshProxyHash, meshProxyNetworks, type MeshGroup, type MeshImageFacts } from './mesh-groups.js';
import { COLLECTOR_HOST } from './telemetry-env.js';

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
  group: MeshGroup;
  /** What is known of each service's image as it runs: its EXPOSE ports and version shape the config. */
  factsOf: (service: string) => MeshImageFacts | undefined;
  /** The proxy image, by tag and id. */
  meshImage: { tag: string; id: string };
  extraLabels: Record<string, string>;
  /** The token of the proxy's API; a new random one unless given. */
  token?: string;
}

/** The create request of a proxy container. */
export function meshProxyRequest(input: MeshProxyRequestInput): ContainerRequest {
  const { stack, group, meshImage } = input;
  const config = meshProxyConfig(stack, group, input.factsOf);
  // A config the proxy would refuse would only make a container that fails on every restart.
  try {
    parseMeshProxyConfig(config);
  } catch (error) {
    throw new FlotillaError('MESH_CONFIG_INVALID', `mesh proxy ${group.name}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'Run `flotilla up` again: it lays out the proxies on what the images expose now.',
    });
  }
  const networks = meshProxyNetworks(stack, config);
  const endpoint = config.collector;
  const proxy: ServiceSpec = {
    name: MESH_PROXY_SERVICE,
    image: meshImage.tag,
    environment: { [MESH_CONFIG_ENV]: JSON.stringify(config), [MESH_TOKEN_ENV]: input.token ?? randomBytes(32).toString('base64url') },
    ports: [{ target: MESH_API_PORT, hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }],
    expose: [],
    volumes: [],
    networks: {},
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
    name: group.name,
    image: meshImage.id,
    service: proxy,
    // Not a replica of any service: it carries no replica label, and the runtime reports it as 0.
    replica: 0,
    labels: {
      ...input.extraLabels,
      [Label.project]: stack.name,
      [Label.version]: FLOTILLA_VERSION,
      [Label.service]: MESH_PROXY_SERVICE,
      [Label.mesh]: 'proxy',
      // Every service of the group, proxied yet or not (one whose image is not there yet may have no port to proxy).
      [Label.meshServices]: group.services.join(','),
      [Label.configHash]: meshProxyHash(stack, config, meshImage.tag),
      [Label.image]: meshImage.tag,
    },
    networks,
    volumeNames: {},
    files: [],
  };
}
