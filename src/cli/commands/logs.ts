import pc from 'picocolors';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseTimeExpression } from '../../server/time-expression.js';
import { findCollector, requireCollector } from '../collector-client.js';
import { commandContext, loadStackFor, type GlobalOptions } from '../context.js';
import { sourceColor } from '../output/colors.js';
import { abortOnInterrupt } from '../interrupt.js';
import { printCollectorLogs } from './logs-collector.js';

interface LogsCliOptions {
  follow?: boolean;
  since?: string;
  until?: string;
  grep?: string;
  level?: string;
  traceId?: string;
  tail?: number;
  timestamps?: boolean;
  prefix: boolean;
  engine?: boolean;
}

/** Lines printed from the collector when --tail does not say. */
const DEFAULT_COLLECTOR_LINES = 1000;


/**
 * `flotilla logs [SERVICE...]`: from the collector when `flotilla serve` runs (every line its agent
 * shipped, searchable), else the Engine's logs of the stack's containers, interleaved as they come.
 */
export async function run(services: string[], options: LogsCliOptions, global: GlobalOptions): Promise<number> {
  const searching = options.grep !== undefined || options.level !== undefined || options.traceId !== undefined || options.until !== undefined;
  if (searching && options.engine) throw new UsageError('--grep, --level, --trace-id and --until search the collector; they cannot be used with --engine');
  const collector = options.engine ? undefined : searching ? requireCollector('flotilla logs with --grep, --level, --trace-id or --until') : findCollector();
  if (collector) {
    const stack = await loadStackFor(global);
    const unknown = services.filter((name) => !stack.services[name]);
    if (unknown.length > 0) throw new UsageError(`no such service: ${unknown.join(', ')}`);
    return printCollectorLogs(collector, {
      project: stack.name,
      services: services.length > 0 ? services : Object.keys(stack.services).sort(),
      ...(options.since !== undefined ? { since: options.since } : {}),
      ...(options.until !== undefined ? { until: options.until } : {}),
      ...(options.grep !== undefined ? { grep: options.grep } : {}),
      ...(options.level !== undefined ? { level: options.level.toLowerCase() } : {}),
      ...(options.traceId !== undefined ? { traceId: options.traceId } : {}),
      limit: options.tail ?? DEFAULT_COLLECTOR_LINES,
      follow: options.follow ?? false,
      timestamps: options.timestamps ?? false,
      prefix: options.prefix,
      signal: abortOnInterrupt(),
    });
  }
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
      const color = sourceColor(index);
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

/** Unix seconds, as the Engine takes them, from the same forms the collector accepts. */
function parseSince(text: string): number {
  return Math.floor(parseTimeExpression(text, '--since', Date.now()) / 1000);
}
