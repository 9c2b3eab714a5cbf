/**
 * One test run, start to finish: its stack up (needed services healthy first), the suite's
 * container waited for with the suite's timeout, its exit code, log tail and JUnit XML collected,
 * and everything it created removed again, whatever happened.
 */
import { FlotillaError } from '../core/errors.js';
import { execute } from '../deploy/execute.js';
import { containerName } from '../deploy/names.js';
import { planDown } from '../deploy/plan-lifecycle.js';
import { planUp } from '../deploy/plan-up.js';
import type { Driver } from '../runtime/driver.js';
import { parseDuration } from '../spec/duration.js';
import type { Stack, TestSuiteSpec } from '../spec/types.js';
import { runStack, suiteServiceName } from './run-stack.js';
import type { PlannedRun, TestResult } from './types.js';

/** Lines of the suite's output kept for a failed run's report. */
const LOG_TAIL_LINES = 40;

/** What a finished run hands back: its result, plus what the report needs. */
export interface RunOutcome {
  result: TestResult;
  /** The suite's JUnit XML, when it wrote one. */
  junit?: string;
  logTail: string[];
}

export interface RunContext {
  driver: Driver;
  stack: Stack;
  /** Id of this `flotilla test` invocation: goes into project names and labels. */
  invocation: string;
  /** Labels for everything a run creates: the user's extra labels plus the test labels. */
  labels: Record<string, string>;
  onProgress: (text: string) => void;
  signal?: AbortSignal | undefined;
}

/** Runs `run` in `suiteImage` with the given images of the services it needs; never throws for a failing suite. */
export async function executeRun(run: PlannedRun, index: number, suiteImage: string, neededImages: Record<string, string>, context: RunContext): Promise<RunOutcome> {
  const { driver } = context;
  const suite = suiteOf(context.stack, run);
  const project = `${context.stack.name}-t${context.invocation}-${index}`;
  const stack = runStack({ stack: context.stack, project, service: run.service, suite, cell: run.cell, suiteImage, neededImages });
  const started = Date.now();
  const finish = (status: TestResult['status'], extra: { reason?: string; junit?: string; logTail?: string[] } = {}): RunOutcome => ({
    result: {
      version: run.version,
      project: context.stack.name,
      runId: run.id,
      service: run.service,
      suite: run.suite,
      cell: run.cell,
      imageId: suiteImage,
      status,
      ...(extra.reason ? { reason: extra.reason } : {}),
      durationMs: Date.now() - started,
      finishedAt: new Date().toISOString(),
    },
    ...(extra.junit !== undefined ? { junit: extra.junit } : {}),
    logTail: extra.logTail ?? [],
  });

  try {
    if (Object.keys(stack.services).length > 1) context.onProgress(`starting ${Object.keys(stack.services).filter((s) => s !== suiteServiceName(suite.name)).join(', ')}`);
    // Every image of a run stack is an id resolved before it started: present by construction.
    const images = Object.fromEntries(Object.values(stack.services).map((service) => [service.image, service.image]));
    const plan = planUp(stack, { state: { containers: [], networks: [], volumes: [] }, images, builds: {}, externalNetworks: [], externalVolumes: [], portsInUse: [] }, {
      services: [],
      forceRecreate: false,
      noRecreate: false,
      removeOrphans: false,
      build: false,
    });
    const up = await execute(plan, { driver, stack, images: {}, extraLabels: context.labels, onProgress: () => undefined, signal: context.signal });
    const blocked = up.failures[0];
    if (blocked) return finish('failed', { reason: `needed service did not come up: ${blocked.message}`, logTail: await tail(driver, blocked.container) });
    if (context.signal?.aborted) throw new FlotillaError('INTERRUPTED', 'interrupted');

    context.onProgress('running');
    const container = containerName(project, suiteServiceName(suite.name), 1);
    const timeoutMs = parseDuration(suite.timeout);
    const waiting = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(context.signal ? [context.signal] : [])]);
    const exitCode = await driver.waitContainer(container, waiting);
    if (exitCode === undefined && context.signal?.aborted) throw new FlotillaError('INTERRUPTED', 'interrupted');
    const [logTail, junit] = await Promise.all([
      tail(driver, container),
      suite.junit ? driver.readContainerFile(container, suite.junit).then((file) => file?.toString('utf8')) : Promise.resolve(undefined),
    ]);
    const extra = { logTail, ...(junit !== undefined ? { junit } : {}) };
    if (exitCode === undefined) return finish('failed', { ...extra, reason: `timed out after ${suite.timeout}` });
    return exitCode === 0 ? finish('passed', extra) : finish('failed', { ...extra, reason: `exited with code ${exitCode}` });
  } finally {
    await teardown(driver, stack);
  }
}

/** Removes the run's containers and network; a suite still running (timed out, interrupted) is killed. */
async function teardown(driver: Driver, stack: Stack): Promise<void> {
  const state = await driver.observe(stack.name);
  // Nothing of a run is worth a graceful stop: it is thrown away.
  const fast = { ...stack, services: Object.fromEntries(Object.entries(stack.services).map(([name, s]) => [name, { ...s, stopGracePeriod: '0s' }])) };
  await execute(planDown(fast, state, { volumes: true, removeOrphans: true }), { driver, stack: fast, images: {}, extraLabels: {}, onProgress: () => undefined });
}

async function tail(driver: Driver, container: string | undefined): Promise<string[]> {
  if (!container) return [];
  const lines: string[] = [];
  try {
    for await (const line of driver.containerLogs(container, { follow: false, tail: LOG_TAIL_LINES, timestamps: false })) lines.push(line.text);
  } catch {
    // Gone already: the reason says what happened.
  }
  return lines;
}

function suiteOf(stack: Stack, run: PlannedRun): TestSuiteSpec {
  const suite = stack.services[run.service]?.flotilla.tests[run.suite];
  if (!suite) throw new FlotillaError('INTERNAL', `run ${run.id}: no suite ${run.suite} on service ${run.service}`);
  return suite;
}
