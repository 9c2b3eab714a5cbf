/**
 * The docker driver: the Driver contract over the Docker Engine API (one host), via dockerode.
 * Nothing connects at creation; the first call does, and an unreachable engine fails with a
 * DOCKER_UNREACHABLE error naming the endpoint and how to start it.
 */
import type { Driver, ObservedState, PublishedPort } from '../driver.js';
import { FlotillaError } from '../../core/errors.js';
import { Label } from '../labels.js';
import { createDockerClient } from './client.js';
import { containerOperations } from './containers.js';
import { resolveEndpoint } from './endpoint.js';
import { DockerErrorCode, isUnreachable, statusOf, unreachableError } from './errors.js';
import { readContainerEvents } from './events.js';
import { buildImage, inspectImage, pullImage, type PullTimeouts } from './images.js';
import { containerFromListing, networkOf, portsFromListing, volumeOf } from './observed.js';

/** Options of createDockerDriver. */
export interface DockerDriverOptions {
  /** Where DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are read from (usually process.env). */
  env: Record<string, string | undefined>;
  /** Overrides how long pulls wait for the registry (defaults: 30 s to answer, 120 s of silence). */
  pullTimeouts?: Partial<PullTimeouts>;
  /** How long ping() waits for an answer before calling the engine unreachable (default 10 s). */
  pingTimeoutMs?: number;
}

const DEFAULT_PULL_TIMEOUTS: PullTimeouts = { responseMs: 30_000, idleMs: 120_000 };
/** Tries of a network removal the Engine refuses for endpoints no container holds any more (about 2.5 s in all). */
const NETWORK_REMOVE_ATTEMPTS = 5;

/** A Driver for the Docker Engine named by `options.env` (DOCKER_HOST, else /var/run/docker.sock). */
export function createDockerDriver(options: DockerDriverOptions): Driver {
  const endpoint = resolveEndpoint(options.env);
  const client = createDockerClient(endpoint);
  const { docker } = client;
  const pullTimeouts = { ...DEFAULT_PULL_TIMEOUTS, ...options.pullTimeouts };
  const pingTimeoutMs = options.pingTimeoutMs ?? 10_000;
  /** Containers, networks and volumes carrying `label`, three list calls at once. */
  const observeLabelled = async (label: string): Promise<ObservedState> => {
    const filters = { label: [label] };
    const [containers, networks, volumes] = await client.call(`list the objects labelled ${label}`, () =>
      Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters }), docker.listVolumes({ filters })]),
    );
    return {
      containers: containers.map(containerFromListing),
      networks: networks.map(networkOf),
      // The Engine answers `"Volumes": null` when none match.
      volumes: (volumes.Volumes ?? []).map(volumeOf),
    };
  };
  /** Containers the Engine lists on a network (not stale endpoints). */
  const attachedContainers = async (name: string): Promise<number> => {
    const network = (await docker.getNetwork(name).inspect().catch(() => undefined)) as { Containers?: Record<string, unknown> } | undefined;
    return Object.keys(network?.Containers ?? {}).length;
  };
  // dockerode's ping accepts an abort signal at run time; its typings omit the options.
  const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;

  return {
    endpoint: endpoint.url,

    async ping() {
      const signal = AbortSignal.timeout(pingTimeoutMs);
      try {
        await ping({ abortSignal: signal });
      } catch (error) {
        if (signal.aborted && !isUnreachable(error)) {
          throw unreachableError(endpoint, new Error(`no answer within ${pingTimeoutMs / 1000}s`, { cause: error }));
        }
        // Every engine answers /_ping with 200: anything else listening there is not one.
        const status = statusOf(error);
        if (status !== undefined) throw unreachableError(endpoint, new Error(`it answered HTTP ${status}, which no Docker Engine does`, { cause: error }));
        throw client.fail(error, 'ping the Docker Engine');
      }
    },

    observe: (project) => observeLabelled(`${Label.project}=${project}`),
    observeLabelled,

    async allProjectContainers() {
      // A label filter without a value matches the key with any value: one call for every project.
      const containers = await client.call('list the containers of every project', () =>
        docker.listContainers({ all: true, filters: { label: [Label.project] } }),
      );
      return containers.map(containerFromListing);
    },

    async publishedPorts(): Promise<(PublishedPort & { containerId: string; containerName: string })[]> {
      const running = await client.call('list running containers', () => docker.listContainers());
      return running.flatMap((info) => {
        const containerName = (info.Names?.[0] ?? info.Id).replace(/^\//, '');
        return portsFromListing(info.Ports ?? []).map((port) => ({ ...port, containerId: info.Id, containerName }));
      });
    },

    inspectImage: (reference) => inspectImage(client, reference),
    pullImage: (reference, onProgress) => pullImage(client, reference, pullTimeouts, onProgress),
    buildImage: (request, onProgress) => buildImage(client, request, onProgress),

    inspectNetwork: (name) =>
      client.callOr(`inspect network "${name}"`, [404], undefined, async () => {
        const info = await docker.getNetwork(name).inspect();
        // The Engine also matches an id prefix; a different network that happens to match is not "name".
        return info.Name === name || info.Id === name ? networkOf(info) : undefined;
      }),

    hostGatewayAddress: () =>
      client.callOr('inspect the default bridge network', [404], undefined, async () => {
        const info = await docker.getNetwork('bridge').inspect();
        // Docker's host-gateway is this address unless the daemon sets host-gateway-ip; the default bridge's gateway is where the host listens.
        return (info.IPAM?.Config ?? []).map((config) => config.Gateway).find((gateway) => gateway !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(gateway));
      }),

    async createNetwork(request) {
      const ipam = request.ipam;
      await client.call(`create network "${request.name}"`, () =>
        docker.createNetwork({
          Name: request.name,
          CheckDuplicate: true,
          Driver: request.driver,
          Options: request.driverOpts,
          Internal: request.internal,
          Attachable: request.attachable,
          EnableIPv6: request.enableIpv6,
          ...(ipam && {
            IPAM: {
              Driver: ipam.driver ?? 'default',
              Config: ipam.config.map((pool) => ({
                ...(pool.subnet !== undefined && { Subnet: pool.subnet }),
                ...(pool.gateway !== undefined && { Gateway: pool.gateway }),
                ...(pool.ipRange !== undefined && { IPRange: pool.ipRange }),
              })),
            },
          }),
          Labels: request.labels,
        }),
      );
    },

    async removeNetwork(name) {
      // Docker 20.10 may still hold the endpoints of containers it has just removed (moby/moby#43286):
      // "active endpoints" with no container attached is retried briefly before it counts.
      for (let attempt = 1; ; attempt++) {
        try {
          await client.callOr(`remove network "${name}"`, [404], undefined, () => docker.getNetwork(name).remove());
          return;
        } catch (error) {
          const inUse = error instanceof FlotillaError && error.code === DockerErrorCode.networkInUse;
          if (!inUse || attempt >= NETWORK_REMOVE_ATTEMPTS || (await attachedContainers(name)) > 0) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
        }
      }
    },

    inspectVolume: (name) =>
      client.callOr(`inspect volume "${name}"`, [404], undefined, async () => volumeOf(await docker.getVolume(name).inspect())),

    async createVolume(request) {
      await client.call(`create volume "${request.name}"`, () =>
        docker.createVolume({ Name: request.name, Driver: request.driver, DriverOpts: request.driverOpts, Labels: request.labels }),
      );
    },

    async removeVolume(name) {
      await client.callOr(`remove volume "${name}"`, [404], undefined, () => docker.getVolume(name).remove());
    },

    containerEvents: (options) => readContainerEvents(client, options),

    ...containerOperations(client),
  };
}
