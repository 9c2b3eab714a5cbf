/**
 * The test plan, computed by a pure function: which runs the selection asks for, in what order
 * (`after`), with which version, and which of them passed before and are skipped as cached. The
 * caller resolves images and needed services on the Engine between `selectRuns` and `planTests`;
 * the runner carries the plan out and decides nothing of its own.
 */
import { InternalError, UsageError } from '../core/errors.js';
import { topologicalOrder } from '../graph/dependency-graph.js';
import { didYouMean } from '../spec/suggest.js';
import type { ServiceSpec, Stack, TestSuiteSpec } from '../spec/types.js';
import { expandMatrix, runIdOf } from './matrix.js';
import { runVersion } from './run-version.js';
import type { NeededService, PlannedRun, RunImage, SuiteRun, TestResult } from './types.js';

/** Which runs to plan. Without `services` or `suites`, every suite of every enabled service. */
export interface TestSelection {
  /** Only the suites of these services. */
  services?: readonly string[] | undefined;
  /** Only these suites: `suite` (of any selected service), `service:suite`, or one run id `service:suite[VAR=value]`. */
  suites?: readonly string[] | undefined;
}

/** Options of `planTests`. */
export interface TestPlanOptions extends TestSelection {
  /** Run everything selected, cached or not. */
  force: boolean;
}

/** What `planTests` needs beyond the stack: what the caller found on the Engine for every run `selectRuns` returns, and the recorded results. */
export interface TestPlanInput {
  /** By run id: the image the run executes in. */
  images: ReadonlyMap<string, RunImage>;
  /** By run id: the services it needs, as they will be started (with their own dependencies). */
  needs: ReadonlyMap<string, readonly NeededService[]>;
  /** The passing result recorded for a run version, if any (a state-store lookup). */
  passed: (version: string) => TestResult | undefined;
}

/** A planned run and why it runs or is skipped, in words a user reads. */
export interface TestPlanRun extends PlannedRun {
  cause: string;
}

/** The whole plan: runs in order, each after the runs it waits for, ties by id. */
export interface TestPlan {
  project: string;
  runs: TestPlanRun[];
}

/** What image a run needs: an image reference to run as it is, or the service's build with these settings. */
export type ImageRequest = { kind: 'reference'; reference: string } | { kind: 'build'; target?: string; args: Record<string, string> };

/**
 * The selected runs, `after` resolved to the ids of every selected cell of the named suites, in
 * plan order. `after` orders runs when both are selected; it never pulls a suite in. Throws a
 * UsageError for a name that matches nothing, and for a suite that needs a disabled service.
 */
export function selectRuns(stack: Stack, selection: TestSelection): SuiteRun[] {
  const services = selectedServices(stack, selection.services);
  const candidates = services.flatMap((service) =>
    Object.values(stack.services[service]?.flotilla.tests ?? {}).flatMap((suite) =>
      expandMatrix(suite.matrix).map((cell): SuiteRun => ({ id: runIdOf(service, suite.name, cell), service, suite: suite.name, cell, after: [] })),
    ),
  );
  const runs = selection.suites === undefined || selection.suites.length === 0 ? candidates : matching(candidates, selection.suites);
  const bySuite = new Map<string, string[]>();
  for (const run of runs) {
    const key = `${run.service}:${run.suite}`;
    const cells = bySuite.get(key);
    if (cells) cells.push(run.id);
    else bySuite.set(key, [run.id]);
  }
  for (const run of runs) {
    const suite = suiteOf(stack, run);
    for (const need of suite.needs) {
      if (!Object.hasOwn(stack.services, need)) {
        throw new UsageError(`${run.id} needs service '${need}', which is not enabled`, { hint: 'Enable one of its profiles with --profile.' });
      }
    }
    run.after = suite.after.flatMap((reference) => bySuite.get(reference) ?? []).sort();
  }
  const byId = new Map(runs.map((run) => [run.id, run]));
  return topologicalOrder(Object.fromEntries(runs.map((run) => [run.id, run.after]))).map((id) => byId.get(id) as SuiteRun);
}

/** The plan: versions computed, passing versions marked cached unless `force`. Pure. */
export function planTests(stack: Stack, input: TestPlanInput, options: TestPlanOptions): TestPlan {
  const runs = selectRuns(stack, options).map((run): TestPlanRun => {
    const image = input.images.get(run.id);
    const needs = input.needs.get(run.id);
    if (!image || !needs) throw new InternalError(`no image or needed services were resolved for test run ${run.id}`);
    const service = serviceOf(stack, run);
    const version = runVersion({ image: image.identity, service, suite: suiteOf(stack, run), needs, cell: run.cell });
    const planned: TestPlanRun = { ...run, version, image, needs: [...needs], cause: '' };
    // An image known only by a reference (not present, not built by us) could be anything: never trust a pass on it.
    const pinned = image.id !== undefined || image.build !== undefined;
    const recorded = pinned ? input.passed(version) : undefined;
    const passed = recorded?.status === 'passed' ? recorded : undefined;
    if (options.force) planned.cause = passed ? `--force; passed ${passed.finishedAt}` : '--force';
    else if (!pinned) planned.cause = `image ${image.reference} is not present, so its version is not pinned`;
    else if (passed) {
      planned.cached = passed;
      planned.cause = `passed ${passed.finishedAt}`;
    } else planned.cause = 'no passing result for this version';
    return planned;
  });
  return { project: stack.name, runs };
}

/** The runs that will execute (not cached), in plan order. */
export function runsToExecute(plan: TestPlan): TestPlanRun[] {
  return plan.runs.filter((run) => run.cached === undefined);
}

/**
 * Ids of the runs to report skipped when `runId` fails: the runs after it, directly or through
 * other runs, in plan order. A cached run counts as passed, so it is neither skipped nor a path.
 */
export function dependentsOf(plan: TestPlan, runId: string): string[] {
  const failed = new Set([runId]);
  const out: string[] = [];
  // Plan order puts every run after the runs it waits for: one pass finds every dependent.
  for (const run of plan.runs) {
    if (run.cached !== undefined || failed.has(run.id)) continue;
    if (run.after.some((id) => failed.has(id))) {
      failed.add(run.id);
      out.push(run.id);
    }
  }
  return out;
}

/** The image a run needs: the suite's `image`, else the service's build (its own target or the suite's, cell values as build args), else the service's image. */
export function imageRequestOf(stack: Stack, run: SuiteRun): ImageRequest {
  const service = serviceOf(stack, run);
  const suite = suiteOf(stack, run);
  if (suite.image !== undefined) return { kind: 'reference', reference: suite.image };
  if (!service.build) return { kind: 'reference', reference: service.image };
  const target = suite.target ?? service.build.target;
  const args = { ...service.build.args, ...run.cell };
  return target === undefined ? { kind: 'build', args } : { kind: 'build', target, args };
}

/** The environment of a run: the service's, then the suite's, then the cell's values on top. */
export function runEnvironment(stack: Stack, run: SuiteRun): Record<string, string> {
  return { ...serviceOf(stack, run).environment, ...suiteOf(stack, run).environment, ...run.cell };
}

/** The suite a run belongs to. */
export function suiteOf(stack: Stack, run: Pick<SuiteRun, 'service' | 'suite' | 'id'>): TestSuiteSpec {
  const suite = stack.services[run.service]?.flotilla.tests[run.suite];
  if (!suite) throw new InternalError(`test run ${run.id} names a suite the stack does not have`);
  return suite;
}

function serviceOf(stack: Stack, run: Pick<SuiteRun, 'service' | 'id'>): ServiceSpec {
  const service = stack.services[run.service];
  if (!service) throw new InternalError(`test run ${run.id} names a service the stack does not have`);
  return service;
}

function selectedServices(stack: Stack, names: readonly string[] | undefined): string[] {
  const enabled = Object.keys(stack.services).sort();
  if (names === undefined || names.length === 0) return enabled;
  for (const name of names) {
    if (Object.hasOwn(stack.services, name)) continue;
    if (stack.disabledServices.includes(name)) throw new UsageError(`service '${name}' is not enabled`, { hint: 'Enable one of its profiles with --profile.' });
    throw new UsageError(`no such service: '${name}'${didYouMean(name, enabled)}`, { hint: `services in this project: ${enabled.join(', ')}` });
  }
  return enabled.filter((name) => names.includes(name));
}

/** The candidates matching any pattern; a pattern that matches nothing is a usage error. */
function matching(candidates: readonly SuiteRun[], patterns: readonly string[]): SuiteRun[] {
  const chosen = new Set<SuiteRun>();
  for (const pattern of patterns) {
    const found = candidates.filter((run) => (pattern.includes('[') ? run.id === pattern : pattern.includes(':') ? `${run.service}:${run.suite}` === pattern : run.suite === pattern));
    if (found.length === 0) {
      const names = [...new Set(candidates.map((run) => (pattern.includes('[') ? run.id : pattern.includes(':') ? `${run.service}:${run.suite}` : run.suite)))].sort();
      const known = names.length > 0 ? `test suites: ${[...new Set(candidates.map((run) => `${run.service}:${run.suite}`))].sort().join(', ')}` : 'the selected services declare no tests';
      throw new UsageError(`no test suite matches '${pattern}'${didYouMean(pattern, names)}`, { hint: known });
    }
    for (const run of found) chosen.add(run);
  }
  return candidates.filter((run) => chosen.has(run));
}
