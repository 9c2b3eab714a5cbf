import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import { dependencyEdges, isEmptyPlan, operationsOf, planText, up } from '../../deploy/index.js';
import { withDependencies } from '../../graph/index.js';
import { lazyProjectStore } from '../../provenance/project-store.js';
import type { Stack } from '../../spec/types.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { abortOnInterrupt } from '../interrupt.js';
import { printFailures } from '../output/failures.js';
import { createProgressRenderer } from '../output/progress.js';

interface UpCliOptions {
  dryRun?: boolean;
  wait?: boolean;
  waitTimeout?: number;
  build?: boolean;
  forceRecreate?: boolean;
  recreate: boolean;
  removeOrphans?: boolean;
  output: 'text' | 'json';
}

/** `flotilla up [SERVICE...]`. */
export async function run(services: string[], options: UpCliOptions, global: GlobalOptions): Promise<number> {
  const { stack, driver, extraLabels } = await commandContext(global, services);
  if (options.waitTimeout !== undefined) stack.flotilla.waitTimeoutSeconds = options.waitTimeout;
  await driver.ping();
  const selected = services.length > 0 ? [...withDependencies(dependencyEdges(stack), services)] : [];
  const signal = abortOnInterrupt();
  const state = lazyProjectStore(stack);
  const result = await up({
    driver,
    stack,
    options: {
      services: selected,
      forceRecreate: options.forceRecreate ?? false,
      noRecreate: !options.recreate,
      removeOrphans: options.removeOrphans ?? false,
      build: options.build ?? false,
    },
    wait: options.wait ?? false,
    dryRun: options.dryRun ?? false,
    extraLabels,
    onProgress: options.output === 'json' && !process.stderr.isTTY ? () => undefined : createProgressRenderer(),
    recordBuild: state.recordBuild,
    signal,
  }).finally(state.close);
  if (signal.aborted) return ExitCode.interrupted;
  const { plan, failures, skipped } = result;
  if (options.output === 'json') {
    process.stdout.write(
      `${JSON.stringify({ project: plan.project, dryRun: options.dryRun ?? false, operations: operationsOf(plan), orphans: plan.orphans, failures, skipped }, null, 2)}\n`,
    );
  } else if (options.dryRun) {
    process.stdout.write(planText(plan));
  } else if (isEmptyPlan(plan) && failures.length === 0) {
    const count = selected.length > 0 ? selected.length : Object.keys(stack.services).length;
    process.stderr.write(`Nothing to do: ${count} service${count === 1 ? '' : 's'} of ${plan.project} up to date.\n`);
  } else if (failures.length === 0) {
    printEndpoints(stack, selected);
  }
  if (plan.orphans.length > 0 && !options.dryRun) {
    process.stderr.write(`${pc.yellow('warning')} orphan containers: ${plan.orphans.join(', ')} (remove them with --remove-orphans)\n`);
  }
  await printFailures(driver, failures);
  return failures.length > 0 ? ExitCode.failed : ExitCode.ok;
}

/** Where to reach each published port, for a person reading the terminal. */
function printEndpoints(stack: Stack, selected: string[]): void {
  for (const service of Object.values(stack.services)) {
    if (selected.length > 0 && !selected.includes(service.name)) continue;
    for (const port of service.ports) {
      if (!port.published || !/^\d+$/.test(port.published)) continue;
      const host = !port.hostIp || port.hostIp === '0.0.0.0' ? 'localhost' : port.hostIp;
      process.stderr.write(`  ${pc.cyan('→')} ${service.name} ${port.target}/${port.protocol} on ${host}:${port.published}\n`);
    }
  }
}
