/** `flotilla logs` served by the collector: search by time, words, level and trace, and follow by polling. */
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import { sleep } from '../../core/sleep.js';
import type { LogRecord } from '../../telemetry/types.js';
import type { CollectorClient } from '../collector-client.js';
import { sourceColor } from '../output/colors.js';

export interface CollectorLogsOptions {
  /** The Compose project: only its services' logs. */
  project: string;
  services: string[];
  since?: string;
  until?: string;
  grep?: string;
  level?: string;
  traceId?: string;
  /** How many of the newest matching lines to print first. */
  limit: number;
  follow: boolean;
  timestamps: boolean;
  prefix: boolean;
  signal: AbortSignal;
}

/** How often --follow asks for new lines. */
const FOLLOW_POLL_MS = 1_000;
/**
 * How far back each --follow poll looks: lines arrive late (an agent catching up, an SDK's batch
 * delay), with times before the newest line printed. Lines already printed are recognised and skipped.
 */
const FOLLOW_LOOKBACK_MS = 30_000n;

export async function printCollectorLogs(collector: CollectorClient, options: CollectorLogsOptions): Promise<number> {
  const colorOf = new Map<string, (text: string) => string>();
  const print = (log: LogRecord): void => {
    let color = colorOf.get(log.service);
    if (!color) {
      color = sourceColor(colorOf.size);
      colorOf.set(log.service, color);
    }
    const time = options.timestamps ? `${pc.dim(new Date(Number(BigInt(log.timeUnixNano) / 1_000_000n)).toISOString())} ` : '';
    const level = log.severityText ? `${levelColor(log.severityNumber)(log.severityText.padEnd(5))} ` : '';
    const prefix = options.prefix ? `${color(log.service)} ${pc.dim('|')} ` : '';
    process.stdout.write(`${prefix}${time}${level}${log.body}\n`);
  };

  // Newest first from the API, per service; printed oldest first, as a terminal reads.
  const fetchLogs = async (since: string | undefined, limit: number): Promise<LogRecord[]> => {
    const services = options.services.length > 0 ? options.services : [undefined];
    const pages = await Promise.all(services.map(async (service) => (await collector.get<{ logs: LogRecord[] }>('/api/logs', {
      service, project: options.project, since, until: options.until, grep: options.grep, level: options.level, traceId: options.traceId, limit,
    })).logs));
    return pages.flat().sort((a, b) => compareTime(b, a)).slice(0, limit).reverse();
  };

  const first = await fetchLogs(options.since, options.limit);
  first.forEach(print);
  if (!options.follow) return ExitCode.ok;

  // Follow: each poll asks from a while before the newest line printed, and prints what it has not printed yet.
  const printed = new Map(first.map((log) => [identity(log), BigInt(log.timeUnixNano)]));
  let newestMs = first.length > 0 ? BigInt(first.at(-1)?.timeUnixNano ?? '0') / 1_000_000n : undefined;
  while (!options.signal.aborted) {
    await sleep(FOLLOW_POLL_MS, options.signal);
    if (options.signal.aborted) break;
    const since = newestMs === undefined ? options.since : String(newestMs - FOLLOW_LOOKBACK_MS);
    const fresh = (await fetchLogs(since, 10_000)).filter((log) => !printed.has(identity(log)));
    for (const log of fresh) {
      print(log);
      printed.set(identity(log), BigInt(log.timeUnixNano));
      const ms = BigInt(log.timeUnixNano) / 1_000_000n;
      if (newestMs === undefined || ms > newestMs) newestMs = ms;
    }
    // Forget what no later poll can return again.
    if (newestMs !== undefined) {
      const horizon = (newestMs - FOLLOW_LOOKBACK_MS) * 1_000_000n;
      for (const [key, time] of printed) if (time < horizon) printed.delete(key);
    }
  }
  return ExitCode.interrupted;
}

const compareTime = (a: LogRecord, b: LogRecord): number => {
  const difference = BigInt(a.timeUnixNano) - BigInt(b.timeUnixNano);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
};
const identity = (log: LogRecord): string => `${log.timeUnixNano}\u0000${log.service}\u0000${log.body}`;

function levelColor(severity: number): (text: string) => string {
  if (severity >= 17) return pc.red;
  if (severity >= 13) return pc.yellow;
  if (severity >= 9) return pc.green;
  return pc.dim;
}
