/**
 * The runtime side of experiments, over the Driver contract: a service's containers, the actions
 * taken on them, and commands run in them. Every action returns what it takes to undo it.
 */
import { Writable } from 'node:stream';
import { FlotillaError } from '../core/errors.js';
import type { Driver, NetworkAttachment, ObservedContainer } from '../runtime/driver.js';
import { isMeshProxy } from '../runtime/labels.js';
import { parseDuration } from '../spec/duration.js';
import type { ContainerActionKind } from '../spec/types.js';
import type { CommandOutcome } from './expectations.js';

/** Most output a command probe keeps: enough to look for a line. */
const MAX_OUTPUT = 256 * 1024;
/** Grace before SIGKILL for `stop` and `restart` when the stack gives none. */
const DEFAULT_STOP_SECONDS = 10;

/** A container action's undo, for the ones that have one (pause, network cut). */
export type Undo = () => Promise<void>;

/** Containers of the project, and what experiments do to them. */
export interface ContainerActions {
  /** The containers of `service` (one replica when given), by replica; fails when there is none. */
  find(service: string, replica?: number): Promise<ObservedContainer[]>;
  /** Applies `action` to each container; returns the undo for `pause`. */
  act(containers: readonly ObservedContainer[], action: ContainerActionKind, options?: { signal?: string; stopSeconds?: number }): Promise<Undo | undefined>;
  /** Takes each container off every network it is on; the undo puts it back with the same aliases. */
  cutNetwork(containers: readonly ObservedContainer[]): Promise<Undo>;
  /** Runs `command` in a running container; never throws (a failure is an outcome). */
  run(container: ObservedContainer, command: readonly string[], timeout: string): Promise<CommandOutcome>;
}

/** Container actions for `project` over `driver`. */
export function createContainerActions(driver: Driver, project: string): ContainerActions {
  return {
    async find(service, replica) {
      const { containers } = await driver.observe(project);
      const found = containers
        // A service's mesh proxy carries its label but is not one of its containers to break.
        .filter((container) => container.service === service && !isMeshProxy(container) && (replica === undefined || container.replica === replica))
        .sort((a, b) => a.replica - b.replica);
      if (found.length === 0) {
        const which = replica === undefined ? `service ${service}` : `replica ${replica} of service ${service}`;
        throw new FlotillaError('CHAOS_NO_CONTAINER', `no container of ${which} in project ${project}`, { hint: `Start it with \`flotilla up ${service}\`.` });
      }
      return found;
    },

    async act(containers, action, options = {}) {
      const stopSeconds = options.stopSeconds ?? DEFAULT_STOP_SECONDS;
      const done: ObservedContainer[] = [];
      for (const container of containers) {
        switch (action) {
          case 'kill':
            await driver.killContainer(container.id, options.signal ?? 'SIGKILL');
            break;
          case 'pause':
            try {
              await driver.pauseContainer(container.id);
            } catch (error) {
              // Leave nothing half-done: thaw the replicas already frozen.
              await Promise.allSettled(done.map((paused) => driver.unpauseContainer(paused.id)));
              throw error;
            }
            break;
          case 'unpause':
            await driver.unpauseContainer(container.id);
            break;
          case 'restart':
            await driver.restartContainer(container.id, stopSeconds);
            break;
          case 'stop':
            await driver.stopContainer(container.id, stopSeconds);
            break;
          case 'start':
            await driver.startContainer(container.id);
            break;
        }
        done.push(container);
      }
      if (action !== 'pause') return undefined;
      return async () => {
        const results = await Promise.allSettled(done.map((container) => driver.unpauseContainer(container.id)));
        throwFirst(results);
      };
    },

    async cutNetwork(containers) {
      const cut: { container: ObservedContainer; attachments: NetworkAttachment[] }[] = [];
      const restore: Undo = async () => {
        const results = await Promise.allSettled(
          cut.flatMap(({ container, attachments }) => attachments.map((attachment) => driver.connectNetwork(container.id, attachment))),
        );
        throwFirst(results);
      };
      try {
        for (const container of containers) {
          const attachments = await driver.containerNetworks(container.id);
          const entry = { container, attachments: [] as NetworkAttachment[] };
          cut.push(entry);
          for (const attachment of attachments) {
            // Recorded before the call: an ambiguous failure is still reconnected.
            entry.attachments.push(attachment);
            await driver.disconnectNetwork(attachment.network, container.id);
          }
        }
      } catch (error) {
        await restore().catch(() => undefined);
        throw error;
      }
      return restore;
    },

    async run(container, command, timeout) {
      const chunks: Buffer[] = [];
      let size = 0;
      const stdout = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (size < MAX_OUTPUT) chunks.push(Buffer.from(chunk));
          size += chunk.length;
          callback();
        },
      });
      const stderr = new Writable({ write: (_chunk, _encoding, callback) => callback() });
      const ms = parseDuration(timeout);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<CommandOutcome>((resolve) => {
        timer = setTimeout(() => resolve({ error: `no exit within ${timeout}` }), ms);
      });
      const ran = driver
        .exec(container.id, { command: [...command], tty: false, stdout, stderr })
        .then((exitCode): CommandOutcome => ({ exitCode, stdout: Buffer.concat(chunks).toString('utf8') }))
        .catch((error: unknown): CommandOutcome => ({ error: error instanceof Error ? error.message : String(error) }));
      try {
        return await Promise.race([ran, expired]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function throwFirst(results: PromiseSettledResult<unknown>[]): void {
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
