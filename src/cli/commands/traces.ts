import pc from 'picocolors';
import { ExitCode, UsageError } from '../../core/errors.js';
import { tryParseDuration } from '../../spec/duration.js';
import type { TraceSummary } from '../../telemetry/query/index.js';
import { requireCollector } from '../collector-client.js';
import { formatMs } from '../output/span-tree.js';
import { renderTable } from '../output/table.js';

interface TracesCliOptions {
  service?: string;
  operation?: string;
  minDuration?: string;
  error?: boolean;
  since: string;
  until?: string;
  limit: number;
  output: 'text' | 'json';
}

/** `flotilla traces`: traces from the collector, most recent first, found by service, operation, duration, error and time. */
export async function run(options: TracesCliOptions): Promise<number> {
  const collector = requireCollector('flotilla traces');
  const minDurationMs = options.minDuration === undefined ? undefined : parseMinDuration(options.minDuration);
  const { traces } = await collector.get<{ traces: TraceSummary[] }>('/api/traces', {
    service: options.service,
    operation: options.operation,
    minDurationMs,
    error: options.error,
    since: options.since,
    until: options.until,
    limit: options.limit,
  });
  if (options.output === 'json') {
    process.stdout.write(`${JSON.stringify({ traces }, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (traces.length === 0) {
    process.stdout.write(`No trace matches, since ${options.since}.\n`);
    return ExitCode.ok;
  }
  const rows = traces.map((trace) => [
    trace.traceId,
    new Date(Number(BigInt(trace.startTimeUnixNano) / 1_000_000n)).toISOString(),
    trace.root ? `${trace.root.service}: ${trace.root.operation}` : '(root not stored)',
    formatMs(trace.durationMs),
    String(trace.spans),
    trace.errors ? pc.red(String(trace.errors)) : '0',
    trace.services.join(','),
  ]);
  process.stdout.write(renderTable(['TRACE', 'START', 'ROOT', 'DURATION', 'SPANS', 'ERRORS', 'SERVICES'], rows));
  return ExitCode.ok;
}

function parseMinDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new UsageError(`--min-duration "${text}": expected a duration such as 250ms or 2s`);
  return ms;
}
