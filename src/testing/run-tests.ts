/**
 * Runs a test plan: every run not cached, as many at once as `jobs` allows, each once the runs
 * it comes after have passed (a failed one skips its dependents), images built once and shared.
 */
import { buildService } from '../build/builder.js';
import type { BuildRecord } from '../build/types.js';
import { createLimiter, memoize } from '../core/concurrency.js';
import { FlotillaError } from '../core/errors.js';
import type { Driver } from '../runtime/driver.js';
import type { Stack } from '../spec/types.js';
import { executeRun, type RunOutcome } from './execute-run.js';
import { parseJUnit } from './junit.js';
import type { RunImageWithBuild, RunInputs } from './run-inputs.js';
import type { PlannedRun, TestResult } from './types.js';

export type RunStatus = 'passed' | 'failed' | 'cached' | 'skipped';

/** How a run ended, for the summary. */
export interface RunReport {
  run: PlannedRun;
  status: RunStatus;
  outcome?: RunOutcome;
  reason?: string;
}

export interface TestRunRequest {
  driver: Driver;
  stack: Stack;
  /** Runs in an order where every run comes after those it waits for. */
  runs: readonly PlannedRun[];
  inputs: RunInputs;
  jobs: number;
  invocation: string;
  labels: Record<string, string>;
  extraLabels: Record<string, string>;
  onProgress: (run: PlannedRun, status: 'working' | 'done' | 'failed' | 'skipped', text: string) => void;
  recordResult: (result: TestResult) => void | Promise<void>;
  recordBuild: (record: BuildRecord) => void | Promise<void>;
  signal?: AbortSignal | undefined;
}

/** Runs every run of the plan; resolves to a report per run, in plan order. */
export async function runTests(request: TestRunRequest): Promise<RunReport[]> {
  const limit = createLimiter(request.jobs);
  const imageId = memoize((key) => ensureImage(request, key));
  const imageKey = new Map<string, RunImageWithBuild>();
  const keyOf = (image: RunImageWithBuild) => {
    imageKey.set(image.reference, image);
    return image.reference;
  };
  const reports = new Map<string, Promise<RunReport>>();
  for (const [index, run] of request.runs.entries()) {
    reports.set(
      run.id,
      (async (): Promise<RunReport> => {
        if (run.cached) return { run, status: 'cached' };
        const before = await Promise.all(run.after.flatMap((id) => reports.get(id) ?? []));
        const blocker = before.find((report) => report.status === 'failed' || report.status === 'skipped');
        if (blocker) {
          const reason = `skipped: ${blocker.run.id} did not pass`;
          request.onProgress(run, 'skipped', reason);
          return { run, status: 'skipped', reason };
        }
        return limit(async () => {
          if (request.signal?.aborted) throw new FlotillaError('INTERRUPTED', 'interrupted');
          request.onProgress(run, 'working', 'preparing images');
          const suiteImage = await imageId(keyOf(request.inputs.images.get(run.id) as RunImageWithBuild));
          const neededImages: Record<string, string> = {};
          for (const needed of run.needs) {
            neededImages[needed.service] = await imageId(keyOf(request.inputs.neededImages.get(needed.service) as RunImageWithBuild));
          }
          const outcome = await executeRun(run, index, suiteImage, neededImages, {
            driver: request.driver,
            stack: request.stack,
            invocation: request.invocation,
            labels: request.labels,
            signal: request.signal,
            onProgress: (text) => request.onProgress(run, 'working', text),
          });
          if (outcome.junit !== undefined) {
            const { total, failures, errors, skipped } = parseJUnit(outcome.junit);
            outcome.result.tests = { total, failures, errors, skipped };
          }
          await request.recordResult(outcome.result);
          const passed = outcome.result.status === 'passed';
          request.onProgress(run, passed ? 'done' : 'failed', passed ? 'passed' : `failed: ${outcome.result.reason ?? 'failed'}`);
          return { run, status: outcome.result.status, outcome, ...(outcome.result.reason ? { reason: outcome.result.reason } : {}) };
        });
      })(),
    );
  }
  const settled = await Promise.allSettled(reports.values());
  const interrupted = settled.find((s) => s.status === 'rejected');
  if (interrupted?.status === 'rejected') throw interrupted.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<RunReport>).value);

  /** The image id for a run image: built (its build version) or pulled when missing. */
  async function ensureImage(context: TestRunRequest, reference: string): Promise<string> {
    const image = imageKey.get(reference);
    if (!image) throw new FlotillaError('INTERNAL', `no image ${reference}`);
    if (image.id) return image.id;
    if (image.resolved) {
      const record = await buildService(image.resolved, {
        driver: context.driver,
        stack: context.stack,
        extraLabels: context.extraLabels,
        record: context.recordBuild,
        onProgress: () => undefined,
      });
      return record.imageId;
    }
    return (await context.driver.pullImage(reference)).id;
  }
}
