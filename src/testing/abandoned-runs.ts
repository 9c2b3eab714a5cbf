/**
 * Test runs label everything they create. A run interrupted with Ctrl-C removes its own; one
 * whose process was killed outright cannot, so the next `flotilla test` of the project removes
 * what runs of dead processes left behind. A run whose process is alive is never touched.
 */
import { hostname } from 'node:os';
import { processAlive } from '../core/process.js';
import type { Driver } from '../runtime/driver.js';
import { Label } from '../runtime/labels.js';

/** Labels on everything a test run creates (besides the run's own project label). */
export const TestLabel = {
  /** The project whose suites run. */
  project: 'dev.flotilla.test.project',
  /** One `flotilla test` invocation. */
  invocation: 'dev.flotilla.test.invocation',
  /** `<pid>@<hostname>` of the process that runs it. */
  owner: 'dev.flotilla.test.owner',
} as const;

/** Removes the containers and networks of this project's test runs whose process is gone; returns how many runs. */
export async function removeAbandonedRuns(driver: Driver, project: string): Promise<number> {
  const state = await driver.observeLabelled(`${TestLabel.project}=${project}`);
  const abandoned = new Set<string>();
  for (const item of [...state.containers, ...state.networks]) {
    if (!isAlive(item.labels[TestLabel.owner])) abandoned.add(item.labels[Label.project] ?? '');
  }
  for (const container of state.containers.filter((c) => abandoned.has(c.labels[Label.project] ?? ''))) {
    await driver.removeContainer(container.id, { volumes: true });
  }
  for (const network of state.networks.filter((n) => abandoned.has(n.labels[Label.project] ?? ''))) {
    await driver.removeNetwork(network.name);
  }
  return abandoned.size;
}

/** Whether the process named by an owner label still runs; an owner on another host counts as alive. */
function isAlive(owner: string | undefined): boolean {
  const [pid, host] = (owner ?? '').split('@');
  if (!pid || host !== hostname()) return owner !== undefined;
  return processAlive(Number(pid));
}
