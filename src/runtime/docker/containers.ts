/**
 * Container operations of the docker driver. Creating a container is several Engine calls
 * (create, connect further networks, copy content files); when a later one fails the
 * half-made container is removed, so the next run converges from a clean state.
 */
import { RuntimeError } from '../../core/errors.js';
import type { ContainerRequest, Driver, ExecOptions, LogLine, LogOptions, NetworkAttachment, ObservedContainer } from '../driver.js';
import type { DockerClient } from './client.js';
import { additionalNetworks, containerCreateOptions, contentFiles } from './container-options.js';
import { DockerErrorCode } from './errors.js';
import { runExec } from './exec.js';
import { readLogs } from './logs.js';
import { attachmentsFromInspect, containerFromInspect } from './observed.js';

/** The Driver methods about containers. */
export type ContainerOperations = Pick<
  Driver,
  | 'createContainer'
  | 'inspectContainer'
  | 'containerEnv'
  | 'startContainer'
  | 'stopContainer'
  | 'restartContainer'
  | 'pauseContainer'
  | 'unpauseContainer'
  | 'killContainer'
  | 'containerNetworks'
  | 'disconnectNetwork'
  | 'connectNetwork'
  | 'removeContainer'
  | 'containerLogs'
  | 'exec'
  | 'waitContainer'
  | 'readContainerFile'
>;

/** The container operations of the Driver contract, over one client. */
export function containerOperations(client: DockerClient): ContainerOperations {
  const { docker } = client;
  const display = (idOrName: string): string => `"${idOrName.length === 64 ? idOrName.slice(0, 12) : idOrName}"`;

  const inspectContainer = (idOrName: string): Promise<ObservedContainer | undefined> =>
    client.callOr(`inspect container ${display(idOrName)}`, [404], undefined, async () =>
      containerFromInspect(await docker.getContainer(idOrName).inspect()),
    );

  const removeContainer = async (id: string, options: { volumes: boolean }): Promise<void> => {
    await client.callOr(`remove container ${display(id)}`, [404], undefined, () =>
      docker.getContainer(id).remove({ force: true, v: options.volumes }),
    );
  };

  return {
    inspectContainer,
    removeContainer,

    async containerEnv(idOrName: string, name: string): Promise<string | undefined> {
      const info = await client.callOr(`inspect container ${display(idOrName)}`, [404], undefined, () => docker.getContainer(idOrName).inspect());
      return envValue(info?.Config.Env ?? [], name);
    },

    async createContainer(request: ContainerRequest): Promise<string> {
      const action = `create container "${request.name}"`;
      const container = await client.call(action, () => docker.createContainer(containerCreateOptions(request)));
      try {
        for (const { network, endpoint } of additionalNetworks(request)) {
          await client.call(`connect container "${request.name}" to network "${network}"`, () =>
            docker.getNetwork(network).connect({ Container: container.id, EndpointConfig: endpoint }),
          );
        }
        const files = contentFiles(request);
        if (files.length > 0) {
          const { contentArchive } = await import('./files.js'); // only for secrets and configs
          const archive = await contentArchive(files);
          await client.call(`copy secrets and configs into container "${request.name}"`, () =>
            container.putArchive(archive, { path: '/' }),
          ).catch((error: unknown) => {
            throw readOnlyHint(error, request);
          });
        }
      } catch (error) {
        await removeContainer(container.id, { volumes: true }).catch(() => undefined);
        throw error;
      }
      return container.id;
    },

    async startContainer(id: string): Promise<void> {
      // 304: already running, which is what was asked for.
      await client.callOr(`start container ${display(id)}`, [304], undefined, () => docker.getContainer(id).start());
    },

    async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
      await client.callOr(`stop container ${display(id)}`, [304], undefined, () =>
        docker.getContainer(id).stop({ t: timeoutSeconds }),
      );
    },

    async restartContainer(id: string, timeoutSeconds: number): Promise<void> {
      await client.call(`restart container ${display(id)}`, () => docker.getContainer(id).restart({ t: timeoutSeconds }));
    },

    async pauseContainer(id: string): Promise<void> {
      await client.call(`pause container ${display(id)}`, () => docker.getContainer(id).pause());
    },

    async unpauseContainer(id: string): Promise<void> {
      // 409: not paused (or not running), so there is nothing to thaw.
      await client.callOr(`unpause container ${display(id)}`, [409], undefined, () => docker.getContainer(id).unpause());
    },

    async killContainer(id: string, signal: string): Promise<void> {
      await client.call(`send ${signal} to container ${display(id)}`, () => docker.getContainer(id).kill({ signal }));
    },

    async containerNetworks(id: string): Promise<NetworkAttachment[]> {
      const info = await client.call(`inspect container ${display(id)}`, () => docker.getContainer(id).inspect());
      return attachmentsFromInspect(info);
    },

    async disconnectNetwork(network: string, containerId: string): Promise<void> {
      const action = `disconnect container ${display(containerId)} from network "${network}"`;
      try {
        await client.call(action, () => docker.getNetwork(network).disconnect({ Container: containerId, Force: true }));
      } catch (error) {
        // Already off the network (the Engine answers 500 or 404 with "is not connected"): what was asked for.
        if (/is not connected/i.test((error as Error).message)) return;
        throw error;
      }
    },

    async connectNetwork(containerId: string, attachment: NetworkAttachment): Promise<void> {
      const action = `connect container ${display(containerId)} to network "${attachment.network}"`;
      const ipam = {
        ...(attachment.ipv4Address !== undefined && { IPv4Address: attachment.ipv4Address }),
        ...(attachment.ipv6Address !== undefined && { IPv6Address: attachment.ipv6Address }),
      };
      try {
        await client.call(action, () =>
          docker.getNetwork(attachment.network).connect({
            Container: containerId,
            EndpointConfig: { Aliases: attachment.aliases, ...(Object.keys(ipam).length > 0 && { IPAMConfig: ipam }) },
          }),
        );
      } catch (error) {
        if (/already exists in network|is already connected/i.test((error as Error).message)) return;
        throw error;
      }
    },

    containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine> {
      const action = `read the logs of container ${display(id)}`;
      return (async function* () {
        const container = docker.getContainer(id);
        const info = await client.call(action, () => container.inspect());
        try {
          yield* readLogs(container, info.Config.Tty, options);
        } catch (error) {
          throw client.fail(error, action);
        }
      })();
    },

    async exec(id: string, options: ExecOptions): Promise<number> {
      const container = docker.getContainer(id);
      return client.call(`run \`${options.command.join(' ')}\` in container ${display(id)}`, () => runExec(container, options));
    },

    async waitContainer(id: string, signal?: AbortSignal): Promise<number | undefined> {
      if (signal?.aborted) return undefined;
      // dockerode's wait takes an abort signal at run time; its typings omit it.
      const wait = docker.getContainer(id).wait.bind(docker.getContainer(id)) as unknown as (options: { abortSignal?: AbortSignal }) => Promise<{ StatusCode: number }>;
      try {
        const result = await client.call(`wait for container ${display(id)}`, () => wait(signal ? { abortSignal: signal } : {}));
        return result.StatusCode;
      } catch (error) {
        if (signal?.aborted) return undefined;
        throw error;
      }
    },

    async readContainerFile(id: string, path: string): Promise<Buffer | undefined> {
      const archive = await client.callOr(`copy ${path} out of container ${display(id)}`, [404], undefined, () =>
        docker.getContainer(id).getArchive({ path }),
      );
      if (!archive) return undefined;
      // Loaded on demand, like the other tar code: only test runs read files out of containers.
      const { firstFile } = await import('./files.js');
      return firstFile(archive);
    },
  };
}

/** The value of `name` in an Engine `Env` list (`NAME=value` entries; the last one wins, as in a shell). */
export function envValue(env: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (const entry of env) if (entry.startsWith(`${name}=`)) value = entry.slice(name.length + 1);
  return value;
}

/** A read-only root file system refuses the copy; say which setting is in the way. */
function readOnlyHint(error: unknown, request: ContainerRequest): unknown {
  if (!(error instanceof RuntimeError) || !/read-only/i.test(error.message)) return error;
  return new RuntimeError(DockerErrorCode.copyFailed, `Cannot copy secrets and configs into container "${request.name}": its root file system is read-only`, {
    hint: `Service "${request.service.name}" sets read_only: true; give it file-based secrets and configs (they are bind-mounted) or mount a writable volume at their target.`,
    cause: error,
  });
}
