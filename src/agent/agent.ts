/**
 * The log-shipping agent: container watch and followers fill the queue, the shipper empties it.
 * The two halves meet only in the state file, which is what makes delivery survive a collector
 * that is down and an agent that is killed.
 */
import { setMaxListeners } from 'node:events';
import { openAgentStore } from './agent-store.js';
import { createResourceResolver } from './resource.js';
import { resolveAgentOptions, type AgentOptions } from './options.js';
import { startShipper } from './shipper.js';
import type { AgentHandle } from './types.js';
import { watchContainers } from './container-watch.js';

/** Largest request body the agent builds; the collector accepts 4 MiB. */
const MAX_BATCH_BYTES = 3 * 1024 * 1024;

/** Starts following and shipping; fails when the runtime is unreachable or the state file unusable. */
export async function startAgent(options: AgentOptions): Promise<AgentHandle> {
  const resolved = resolveAgentOptions(options);
  const { driver, onEvent } = resolved;
  await driver.ping();
  const store = openAgentStore(resolved.stateFile, { maxRecords: resolved.maxQueueRecords });

  const shipper = startShipper({
    store,
    url: resolved.logsUrl,
    headers: resolved.headers,
    batchSize: resolved.batchSize,
    maxBatchBytes: MAX_BATCH_BYTES,
    idleMs: Math.max(resolved.flushIntervalMs, 1_000),
    requestTimeoutMs: 30_000,
    backoff: { baseMs: 250, maxMs: 30_000 },
    maxRetryAfterMs: 300_000,
    onEvent,
  });
  const following = new AbortController();
  // Every followed container's log stream listens to this one signal: dozens of listeners are expected, not a leak.
  setMaxListeners(0, following.signal);
  const watch = watchContainers(
    {
      driver,
      store,
      projects: resolved.projects,
      resourceOf: createResourceResolver(driver, resolved.env),
      batchSize: resolved.batchSize,
      flushIntervalMs: resolved.flushIntervalMs,
      onEvent,
      onQueued: () => shipper.wake(),
    },
    following.signal,
  );

  let stopping: Promise<void> | undefined;
  let closed = false;
  let last = { ...store.counts(), following: 0 };
  return {
    stats() {
      if (!closed) last = { ...store.counts(), following: watch.following() };
      return last;
    },
    stop() {
      stopping ??= (async () => {
        following.abort();
        // Followers queue what they read before they end, so nothing read is only in memory.
        await watch.done;
        await shipper.finish(resolved.stopGraceMs);
        last = { ...store.counts(), following: 0 };
        closed = true;
        store.close();
      })();
      return stopping;
    },
  };
}
