import { ExitCode } from '../../core/errors.js';
import { loadStackFor, type GlobalOptions } from '../context.js';

/** `flotilla config`: the resolved stack, or just the service names. */
export async function run(options: { output: 'yaml' | 'json'; services?: boolean }, global: GlobalOptions): Promise<number> {
  const stack = await loadStackFor(global);
  if (options.services) {
    process.stdout.write(`${Object.keys(stack.services).join('\n')}\n`);
    return ExitCode.ok;
  }
  const { renderStack } = await import('../../spec/index.js');
  process.stdout.write(renderStack(stack, options.output));
  return ExitCode.ok;
}
