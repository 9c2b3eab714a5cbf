/**
 * The reaper: everything an integration test creates carries `dev.flotilla.test-run=<run id>`,
 * and is removed by that label afterwards, even after a failed test. It talks to the Engine
 * with dockerode directly, so a bug in the driver under test cannot stop the cleanup.
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';

/** The label key that marks what a test run created. */
export const TEST_RUN_LABEL = 'dev.flotilla.test-run';

/** This run's id: set by global-setup.ts (FLOTILLA_TEST_RUN), else made up for a lone file. */
export const testRunId: string = (process.env['FLOTILLA_TEST_RUN'] ||= randomBytes(6).toString('hex'));

/** The labels to put on everything a test creates. */
export function testLabels(): Record<string, string> {
  return { [TEST_RUN_LABEL]: testRunId };
}

/** Removes containers (forced), then networks, volumes and images labelled with `runId`; never a prune. */
export async function removeByLabel(runId: string): Promise<void> {
  const docker = new Docker();
  const filters = { label: [`${TEST_RUN_LABEL}=${runId}`] };
  const failures: unknown[] = [];
  const attempt = async (remove: () => Promise<unknown>): Promise<void> => {
    try {
      await remove();
    } catch (error) {
      // Already gone (another cleanup, or --rm) is what we wanted.
      if ((error as { statusCode?: number }).statusCode !== 404) failures.push(error);
    }
  };

  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => attempt(() => docker.getContainer(c.Id).remove({ force: true, v: true }))));
  const networks = await docker.listNetworks({ filters });
  await Promise.all(networks.map((n) => attempt(() => docker.getNetwork(n.Id).remove())));
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  await Promise.all(volumes.map((v) => attempt(() => docker.getVolume(v.Name).remove())));
  // One at a time: images of one build can share parents, and parallel removal races on them.
  for (const image of await docker.listImages({ filters })) {
    await attempt(() => docker.getImage(image.Id).remove({ force: true }));
  }

  if (failures.length > 0) throw new AggregateError(failures, `could not remove everything labelled ${TEST_RUN_LABEL}=${runId}`);
}
