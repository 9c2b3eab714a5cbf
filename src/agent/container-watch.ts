/**
 * Which containers to follow: every Flotilla container on the Engine (or of the given projects).
 * It subscribes to the Engine's container events, lists what exists, and then acts on events:
 * a start makes (or wakes) a follower, a destroy ends one. The subscription replays events from
 * just before the listing, so nothing that starts in between is missed; when the Engine closes
 * the stream (a daemon restart) it subscribes and lists again.
 */
import type { Driver, ObservedContainer } from '../runtime/driver.js';
import { Label } from '../runtime/labels.js';
import type { AgentStore } from './agent-store.js';
import { sleep } from '../core/sleep.js';
import { backoffDelay } from './backoff.js';
import { ContainerFollower } from './follower.js';
import { encodeResource, type AttributeMap } from './otlp-encode.js';
import type { AgentEventListener } from './types.js';

/** Options of watchContainers. */
export interface WatchOptions {
  driver: Driver;
  store: AgentStore;
  /** Only containers of these projects; empty: every project. */
  projects: readonly string[];
  resourceOf: (container: ObservedContainer) => Promise<AttributeMap>;
  batchSize: number;
  flushIntervalMs: number;
  onEvent: AgentEventListener;
  onQueued: () => void;
}

/** The running watch. */
export interface ContainerWatch {
  /** Containers followed now. */
  following(): number;
  /** Resolves once the watch and every follower ended (after `signal` aborted), all lines read so far queued. */
  done: Promise<void>;
}

/** Starts watching; everything stops when `signal` aborts. */
export function watchContainers(options: WatchOptions, signal: AbortSignal): ContainerWatch {
  const { driver, store, onEvent } = options;
  const followers = new Map<string, { follower: ContainerFollower; running: Promise<void> }>();
  const wanted = (labels: Record<string, string>): boolean => {
    const project = labels[Label.project];
    return project !== undefined && (options.projects.length === 0 || options.projects.includes(project));
  };

  const follow = async (container: ObservedContainer): Promise<void> => {
    const existing = followers.get(container.id);
    if (existing) {
      existing.follower.started();
      return;
    }
    const resource = encodeResource(await options.resourceOf(container));
    // Another event for the same container may have made one while the image was inspected.
    if (followers.has(container.id) || signal.aborted) return followers.get(container.id)?.follower.started();
    const follower = new ContainerFollower(container, {
      driver, store, resource, batchSize: options.batchSize, flushIntervalMs: options.flushIntervalMs, onEvent, onQueued: options.onQueued,
    });
    onEvent({ type: 'follow', containerId: container.id, container: container.name, service: container.service, project: container.project });
    const running = follower.run(signal).finally(() => {
      followers.delete(container.id);
      if (!signal.aborted) {
        // Gone for good: its cursor is of no further use. A failing state file only leaves a stale
        // cursor behind (forgotten at the next start); it must not reject here, where nobody listens.
        try {
          store.forgetCursor(container.id);
        } catch (error) {
          onEvent({ type: 'warning', message: `could not forget the cursor of ${container.name}: ${(error as Error).message}` });
        }
        onEvent({ type: 'unfollow', containerId: container.id, container: container.name });
      }
    });
    followers.set(container.id, { follower, running });
  };

  const reconcile = async (): Promise<void> => {
    const containers = await driver.allProjectContainers();
    for (const container of containers) if (wanted(container.labels)) await follow(container);
    // Cursors of containers removed while the agent was not running.
    const present = new Set(containers.map((container) => container.id));
    for (const id of store.cursorIds()) if (!present.has(id)) store.forgetCursor(id);
  };

  const watch = async (): Promise<void> => {
    for (let failures = 0; !signal.aborted; ) {
      // Replaying from a second before the listing covers what starts in between; repeats are harmless.
      const since = Math.floor(Date.now() / 1000) - 1;
      try {
        await reconcile();
        for await (const event of driver.containerEvents({ signal, since })) {
          failures = 0;
          if (!wanted(event.labels)) continue;
          if (event.action === 'destroy') followers.get(event.id)?.follower.destroyed();
          else if (event.action === 'start') {
            const container = await driver.inspectContainer(event.id);
            if (container) await follow(container);
          }
        }
      } catch (error) {
        if (signal.aborted) break;
        onEvent({ type: 'warning', message: `watching the Engine's containers failed: ${(error as Error).message}` });
        failures += 1;
      }
      // The stream ended (the Engine restarted) or failed: subscribe again, slower each time it fails.
      await sleep(backoffDelay(failures, { baseMs: 500, maxMs: 30_000 }), signal);
    }
  };

  const done = watch().then(async () => {
    await Promise.all([...followers.values()].map((entry) => entry.running));
  });
  return { following: () => followers.size, done };
}
