import pc from 'picocolors';
import { ExitCode, UsageError } from '../../core/errors.js';
import { tryParseDuration } from '../../spec/duration.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { abortOnInterrupt } from '../interrupt.js';

interface LogsCliOptions {
  follow?: boolean;
  since?: string;
  tail?: number;
  timestamps?: boolean;
  prefix: boolean;
}

const COLORS = [pc.cyan, pc.magenta, pc.green, pc.yellow, pc.blue, pc.red];

/** `flotilla logs [SERVICE...]`: the Engine's logs of the stack's containers, interleaved as they come. */
export async function run(services: string[], options: LogsCliOptions, global: GlobalOptions): Promise<number> {
  const since = options.since === undefined ? undefined : parseSince(options.since);
  const { stack, driver } = await commandContext(global);
  const unknown = services.filter((name) => !stack.services[name]);
  if (unknown.length > 0) throw new UsageError(`no such service: ${unknown.join(', ')}`);
  const state = await driver.observe(stack.name);
  const containers = state.containers
    .filter((container) => services.length === 0 || services.includes(container.service))
    .sort((a, b) => a.name.localeCompare(b.name));
  if (containers.length === 0) {
    process.stderr.write(`No containers for ${services.length > 0 ? services.join(', ') : `project ${stack.name}`}.\n`);
    return ExitCode.ok;
  }
  const signal = abortOnInterrupt();
  const width = Math.max(...containers.map((container) => container.name.length));
  await Promise.all(
    containers.map(async (container, index) => {
      const color = COLORS[index % COLORS.length] ?? pc.cyan;
      const prefix = options.prefix ? `${color(container.name.padEnd(width))} ${pc.dim('|')} ` : '';
      const lines = driver.containerLogs(container.id, {
        follow: options.follow ?? false,
        timestamps: options.timestamps ?? false,
        signal,
        ...(options.tail !== undefined ? { tail: options.tail } : {}),
        ...(since !== undefined ? { since } : {}),
      });
      for await (const line of lines) process.stdout.write(`${prefix}${line.text}\n`);
    }),
  );
  return signal.aborted ? ExitCode.interrupted : ExitCode.ok;
}

/** Unix seconds from a duration ago (`10m`) or a timestamp (`2026-11-26T10:00:00Z`). */
function parseSince(text: string): number {
  const ago = tryParseDuration(text);
  if (ago !== undefined) return Math.floor((Date.now() - ago) / 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`--since "${text}": expected a duration (10m, 1h30m) or a timestamp (2026-11-26T10:00:00Z)`);
  return Math.floor(at / 1000);
}
