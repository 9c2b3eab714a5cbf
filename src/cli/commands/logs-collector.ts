/** `flotilla logs` served by the collector: search by time, words, level and trace, and follow by polling. */
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import type { LogRecord } from '../../telemetry/types.js';
import type { CollectorClient } from '../collector-client.js';

export interface CollectorLogsOptions {
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
const COLORS = [pc.cyan, pc.magenta, pc.green, pc.yellow, pc.blue, pc.red];

export async function printCollectorLogs(collector: CollectorClient, options: CollectorLogsOptions): Promise<number> {
  const colorOf = new Map<string, (text: string) => string>();
  const print = (log: LogRecord): void => {
    let color = colorOf.get(log.service);
    if (!color) {
      color = COLORS[colorOf.size % COLORS.length] ?? pc.cyan;
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
      service, since, until: options.until, grep: options.grep, level: options.level, traceId: options.traceId, limit,
    })).logs));
    return pages.flat().sort((a, b) => compareTime(b, a)).slice(0, limit).reverse();
  };

  const first = await fetchLogs(options.since, options.limit);
  first.forEach(print);
  if (!options.follow) return ExitCode.ok;

  // Follow: ask for what arrived since the newest line printed; lines of that same millisecond are told apart by content.
  let newest = first.at(-1);
  let seen = new Set(first.filter((log) => sameMs(log, newest)).map(identity));
  while (!options.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
    if (options.signal.aborted) break;
    const since = newest ? String(Number(BigInt(newest.timeUnixNano) / 1_000_000n)) : options.since;
    const fresh = (await fetchLogs(since, 10_000)).filter((log) => !seen.has(identity(log)));
    fresh.forEach(print);
    if (fresh.length > 0) {
      newest = fresh.at(-1);
      seen = new Set([...first, ...fresh].filter((log) => sameMs(log, newest)).map(identity));
    }
  }
  return ExitCode.interrupted;
}

const compareTime = (a: LogRecord, b: LogRecord): number => {
  const difference = BigInt(a.timeUnixNano) - BigInt(b.timeUnixNano);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
};
const sameMs = (log: LogRecord, other: LogRecord | undefined): boolean =>
  other !== undefined && BigInt(log.timeUnixNano) / 1_000_000n === BigInt(other.timeUnixNano) / 1_000_000n;
const identity = (log: LogRecord): string => `${log.timeUnixNano}\u0000${log.service}\u0000${log.body}`;

function levelColor(severity: number): (text: string) => string {
  if (severity >= 17) return pc.red;
  if (severity >= 13) return pc.yellow;
  if (severity >= 9) return pc.green;
  return pc.dim;
}
