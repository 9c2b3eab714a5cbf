import { UsageError } from '../../core/errors.js';
import { planRestart, planStart, planStop } from '../../deploy/index.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { runPlan, type PlanOutputOptions } from '../run-plan.js';

const PLANNERS = { start: planStart, stop: planStop, restart: planRestart };

/** `flotilla start|stop|restart [SERVICE...]`. */
export async function run(verb: keyof typeof PLANNERS, services: string[], options: PlanOutputOptions, global: GlobalOptions): Promise<number> {
  const context = await commandContext(global, services);
  const unknown = services.filter((name) => !context.stack.services[name]);
  if (unknown.length > 0) throw new UsageError(`no such service: ${unknown.join(', ')}`);
  const state = await context.driver.observe(context.stack.name);
  return runPlan(context, PLANNERS[verb](context.stack, state, services), verb, options);
}
