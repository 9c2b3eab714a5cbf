import type { TestPlan, TestPlanRun } from './plan.js';

/**
 * The stable text form of a test plan, printed by `--dry-run` and compared by golden tests: one
 * line per run in plan order, `run` or `cached`, its id, why, and the runs it waits for.
 */
export function testPlanText(plan: TestPlan): string {
  if (plan.runs.length === 0) return `project ${plan.project}: no test suites selected\n`;
  const cached = plan.runs.filter((run) => run.cached !== undefined).length;
  const toRun = plan.runs.length - cached;
  const summary = `${toRun === 0 ? 'nothing to run' : `${toRun} to run`}${cached > 0 ? `, ${cached} cached` : ''}`;
  const width = Math.max(...plan.runs.map((run) => run.id.length));
  return `project ${plan.project}: ${summary}\n${plan.runs.map((run) => `  ${line(run, width)}\n`).join('')}`;
}

function line(run: TestPlanRun, width: number): string {
  const verb = run.cached === undefined ? 'run' : 'cached';
  const after = run.after.length > 0 ? ` after ${run.after.join(', ')}` : '';
  return `${verb.padEnd(6)} ${run.id.padEnd(width)}  (${run.cause})${after}`;
}
