import { fstatSync } from 'node:fs';
import { FlotillaError, UsageError } from '../../core/errors.js';
import { containerName } from '../../deploy/index.js';
import { commandContext, type GlobalOptions } from '../context.js';

interface ExecCliOptions {
  index: number;
  tty: boolean;
  user?: string;
  workdir?: string;
  env: string[];
}

/** `flotilla exec SERVICE COMMAND...`: exits with the command's own exit code. */
export async function run(service: string, command: string[], options: ExecCliOptions, global: GlobalOptions): Promise<number> {
  const { stack, driver } = await commandContext(global);
  if (!stack.services[service]) throw new UsageError(`no such service: ${service}`);
  const name = containerName(stack.name, service, options.index);
  const container = await driver.inspectContainer(name);
  if (!container || container.state !== 'running') {
    throw new FlotillaError('CONTAINER_NOT_RUNNING', `container ${name} is ${container ? container.state : 'missing'}`, {
      hint: `Start it with \`flotilla up ${service}\`.`,
    });
  }
  const tty = options.tty && process.stdin.isTTY && process.stdout.isTTY;
  const stdin = tty || stdinHasData() ? process.stdin : undefined;
  if (tty) process.stdin.setRawMode(true);
  try {
    return await driver.exec(container.id, {
      command,
      tty,
      stdout: process.stdout,
      stderr: process.stderr,
      ...(stdin ? { stdin } : {}),
      ...(options.env.length > 0 ? { env: options.env } : {}),
      ...(options.user ? { user: options.user } : {}),
      ...(options.workdir ? { workdir: options.workdir } : {}),
    });
  } finally {
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}

/** True when stdin is a pipe or a file, so there is input to forward; never wait on a terminal nobody types into. */
function stdinHasData(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isFile();
  } catch {
    return false;
  }
}
