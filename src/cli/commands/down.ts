import { planDown } from '../../deploy/index.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { runPlan, type PlanOutputOptions } from '../run-plan.js';

interface DownCliOptions extends PlanOutputOptions {
  volumes?: boolean;
  removeOrphans?: boolean;
}

/** `flotilla down [-v] [--remove-orphans]`. */
export async function run(options: DownCliOptions, global: GlobalOptions): Promise<number> {
  const context = await commandContext(global);
  const state = await context.driver.observe(context.stack.name);
  const plan = planDown(context.stack, state, { volumes: options.volumes ?? false, removeOrphans: options.removeOrphans ?? false });
  if (plan.orphans.length > 0) process.stderr.write(`orphan containers left running: ${plan.orphans.join(', ')} (use --remove-orphans)\n`);
  return runPlan(context, plan, 'remove', options);
}
