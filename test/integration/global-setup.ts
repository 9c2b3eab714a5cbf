/**
 * Runs once around the integration tests: checks the Docker Engine answers (with a message that
 * says what to do when it does not), gives the run its id, and removes whatever still carries
 * that id at the end, whatever happened in between.
 */
import { randomBytes } from 'node:crypto';
import { FlotillaError } from '../../src/core/errors.js';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import { removeByLabel } from './helpers/cleanup.js';

/** The image every integration test runs; no registry may be reachable, so it must be local. */
export const TEST_IMAGE = 'debian:bookworm-slim';

export default async function setup(): Promise<() => Promise<void>> {
  // Workers start after this and inherit the variable; helpers/cleanup.ts reads it.
  const runId = (process.env['FLOTILLA_TEST_RUN'] ||= randomBytes(6).toString('hex'));
  const driver = createDockerDriver({ env: process.env });
  try {
    await driver.ping();
    if (!(await driver.inspectImage(TEST_IMAGE))) await driver.pullImage(TEST_IMAGE);
  } catch (error) {
    const detail = error instanceof FlotillaError ? `${error.message}\n${error.hint ?? ''}` : String(error);
    throw new Error(`Integration tests need a Docker Engine with the image ${TEST_IMAGE}:\n${detail}`);
  }
  return async () => {
    await removeByLabel(runId);
  };
}
