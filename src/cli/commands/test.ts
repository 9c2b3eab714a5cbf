import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import pc from 'picocolors';
import { ExitCode, FlotillaError } from '../../core/errors.js';
import { lazyProjectStore } from '../../provenance/project-store.js';
import { removeAbandonedRuns, TestLabel } from '../../testing/abandoned-runs.js';
import { mergeJUnit, planTests, selectRuns, type TestPlan } from '../../testing/index.js';
import { resolveRunInputs } from '../../testing/run-inputs.js';
import { runTests, type RunReport } from '../../testing/run-tests.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { abortOnInterrupt } from '../interrupt.js';
import { createProgressRenderer } from '../output/progress.js';
import { renderTable } from '../output/table.js';

interface TestCliOptions {
  jobs?: number;
  force?: boolean;
  junit?: string;
  output: 'text' | 'json';
}

/** One row of the summary, also its JSON form. */
interface RunRow {
  id: string;
  service: string;
  suite: string;
  cell: Record<string, string>;
  status: RunReport['status'];
  reason?: string;
  seconds: number;
  imageId?: string;
  tests?: { total: number; failures: number; errors: number; skipped: number };
}

/** `flotilla test [SERVICE | SERVICE:SUITE | SUITE ...]`: every suite in its own fresh containers, cached runs skipped. */
export async function run(selectors: string[], options: TestCliOptions, global: GlobalOptions): Promise<number> {
  const { stack, driver, extraLabels } = await commandContext(global);
  const services = selectors.filter((selector) => !selector.includes(':') && stack.services[selector]);
  const suites = selectors.filter((selector) => !services.includes(selector));
  const selection = { ...(services.length > 0 ? { services } : {}), ...(suites.length > 0 ? { suites } : {}) };
  await driver.ping();
  const abandoned = await removeAbandonedRuns(driver, stack.name);
  if (abandoned > 0) process.stderr.write(`Removed the containers of ${abandoned} interrupted test run${abandoned === 1 ? '' : 's'}.\n`);

  const selected = selectRuns(stack, selection);
  if (selected.length === 0) {
    process.stderr.write(`No test suites in ${stack.name}: declare them under x-flotilla.tests of a service.\n`);
    return ExitCode.ok;
  }
  const inputs = await resolveRunInputs(driver, stack, selected);
  // One store for the cache look-ups and the results: a run records there anyway.
  const state = lazyProjectStore(stack);
  const store = await state.store();
  const invocation = randomBytes(3).toString('hex');
  const renderer = createProgressRenderer();
  const signal = abortOnInterrupt();
  try {
    const plan = planTests(stack, { ...inputs, passed: (version) => store.passedTestResults([version]).get(version) }, { ...selection, force: options.force ?? false });
    const reports = await runTests({
      driver,
      stack,
      runs: plan.runs,
      inputs,
      jobs: options.jobs ?? availableParallelism(),
      invocation,
      extraLabels,
      labels: {
        ...extraLabels,
        [TestLabel.project]: stack.name,
        [TestLabel.invocation]: invocation,
        // Lets a later run tell an abandoned run (its process is gone) from one still going.
        [TestLabel.owner]: `${process.pid}@${hostname()}`,
      },
      signal,
      recordResult: (result) => store.recordTestResult(result),
      recordBuild: state.recordBuild,
      onProgress: (run, status, text) => renderer({ resource: `suite ${run.id}`, service: run.service, status, text }),
    });
    return reportRuns(plan, reports, options);
  } catch (error) {
    if (error instanceof FlotillaError && error.code === 'INTERRUPTED') return ExitCode.interrupted;
    throw error;
  } finally {
    state.close();
  }
}

/** The summary, the failed runs' log tails and the merged JUnit file; returns the exit code. */
function reportRuns(plan: TestPlan, reports: RunReport[], options: TestCliOptions): number {
  const causes = new Map(plan.runs.map((planned) => [planned.id, planned.cause]));
  const rows = reports.map(toRow);
  if (options.junit) {
    const xml = mergeJUnit(
      reports.map((report) => ({
        runId: report.run.id,
        xml: report.outcome?.junit,
        status: report.status,
        reason: report.reason ?? (report.status === 'cached' ? causes.get(report.run.id) : undefined),
        durationMs: report.outcome?.result.durationMs ?? 0,
        logTail: report.outcome?.logTail.join('\n'),
      })),
    );
    writeFileSync(resolve(options.junit), xml);
  }
  if (options.output === 'json') {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    process.stdout.write(
      renderTable(
        ['SUITE', 'STATUS', 'TESTS', 'TIME', 'REASON'],
        rows.map((row) => [row.id, row.status, row.tests ? `${row.tests.total - row.tests.failures - row.tests.errors}/${row.tests.total}` : '-', `${row.seconds.toFixed(1)}s`, row.reason ?? '']),
      ),
    );
    const counts = (status: RunReport['status']) => rows.filter((row) => row.status === status).length;
    process.stderr.write(`${counts('passed')} passed, ${counts('failed')} failed, ${counts('cached')} cached, ${counts('skipped')} skipped\n`);
  }
  for (const report of reports.filter((r) => r.status === 'failed')) {
    process.stderr.write(`\n${pc.red('✘')} ${report.run.id}: ${report.reason ?? 'failed'}\n`);
    for (const line of report.outcome?.logTail ?? []) process.stderr.write(`  ${pc.dim('│')} ${line}\n`);
  }
  return reports.some((r) => r.status === 'failed' || r.status === 'skipped') ? ExitCode.failed : ExitCode.ok;
}

function toRow(report: RunReport): RunRow {
  const result = report.outcome?.result ?? report.run.cached;
  const tests = result?.tests;
  return {
    id: report.run.id,
    service: report.run.service,
    suite: report.run.suite,
    cell: report.run.cell,
    status: report.status,
    ...(report.reason ? { reason: report.reason } : {}),
    seconds: report.status === 'cached' ? 0 : (report.outcome?.result.durationMs ?? 0) / 1000,
    ...(result?.imageId ? { imageId: result.imageId } : {}),
    ...(tests ? { tests } : {}),
  };
}
