import { ExitCode } from '../core/errors.js';
import { execute, isEmptyPlan, operationsOf, planText, type Plan } from '../deploy/index.js';
import type { CommandContext } from './context.js';
import { abortOnInterrupt } from './interrupt.js';
import { printFailures } from './output/failures.js';
import { createProgressRenderer } from './output/progress.js';

export interface PlanOutputOptions {
  dryRun?: boolean;
  output: 'text' | 'json';
}

/** Prints (`--dry-run`) or carries out a plan of `down`, `start`, `stop` or `restart`, and reports. */
export async function runPlan(context: CommandContext, plan: Plan, verb: string, options: PlanOutputOptions): Promise<number> {
  if (options.dryRun) {
    process.stdout.write(options.output === 'json' ? `${JSON.stringify({ project: plan.project, dryRun: true, operations: operationsOf(plan) }, null, 2)}\n` : planText(plan));
    return ExitCode.ok;
  }
  if (isEmptyPlan(plan)) {
    if (options.output === 'json') process.stdout.write(`${JSON.stringify({ project: plan.project, operations: [], failures: [] })}\n`);
    else process.stderr.write(`Nothing to ${verb}: project ${plan.project} has nothing in that state.\n`);
    return ExitCode.ok;
  }
  const signal = abortOnInterrupt();
  const result = await execute(plan, {
    driver: context.driver,
    stack: context.stack,
    images: {},
    extraLabels: context.extraLabels,
    onProgress: createProgressRenderer(),
    signal,
  });
  if (signal.aborted) return ExitCode.interrupted;
  if (options.output === 'json') {
    process.stdout.write(`${JSON.stringify({ project: plan.project, operations: operationsOf(plan), failures: result.failures, skipped: result.skipped }, null, 2)}\n`);
  }
  await printFailures(context.driver, result.failures);
  return result.failures.length > 0 ? ExitCode.failed : ExitCode.ok;
}
