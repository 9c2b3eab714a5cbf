import path from 'node:path';
import pc from 'picocolors';
import { ExitCode, UsageError } from '../../core/errors.js';
import type { AgentEvent, AgentStats } from '../../agent/index.js';
import { userStateDir } from '../../server/state-file.js';
import type { GlobalOptions } from '../context.js';
import { abortOnInterrupt } from '../interrupt.js';

interface AgentCliOptions {
  endpoint: string;
  header: string[];
  stateDir?: string;
  project: string[];
  maxQueue?: number;
  output: 'text' | 'json';
}

/** The agent's file inside the state directory. */
export const AGENT_STATE_FILE = 'agent.db';
/** How often progress is printed at most, and only when a count changed. */
const PROGRESS_INTERVAL_MS = 10_000;

/**
 * `flotilla agent`: follows the logs of this Engine's Flotilla containers and ships them to an
 * OTLP endpoint until SIGINT or SIGTERM, then stops gracefully (exit 0). Progress goes to stderr;
 * with `--output json`, every line (start, events, progress, final stats) is JSON on stdout.
 */
export async function run(options: AgentCliOptions, _global: GlobalOptions): Promise<number> {
  const [{ startAgent, otlpHeadersFromEnv }, { createDockerDriver }] = await Promise.all([import('../../agent/index.js'), import('../../runtime/docker/index.js')]);
  const stateFile = path.join(options.stateDir !== undefined ? path.resolve(options.stateDir) : userStateDir(), AGENT_STATE_FILE);
  const print = printer(options.output);
  const stopSignal = stopOnSignals();

  const agent = await startAgent({
    driver: createDockerDriver({ env: process.env }),
    endpoint: options.endpoint,
    // The standard variable first, --header over it.
    headers: { ...otlpHeadersFromEnv(process.env), ...parseHeaders(options.header) },
    stateFile,
    projects: options.project,
    ...(options.maxQueue !== undefined && { maxQueueRecords: options.maxQueue }),
    onEvent: (event) => print.event(event),
  });
  const following = options.project.length > 0 ? `projects ${options.project.join(', ')}` : 'every Flotilla project';
  print.line('start', `Shipping the logs of ${following} to ${options.endpoint} (queue: ${stateFile})`, {
    endpoint: options.endpoint,
    stateFile,
    projects: options.project,
    stats: agent.stats(),
  });

  let shown = '';
  const progress = setInterval(() => {
    const stats = agent.stats();
    const key = JSON.stringify(stats);
    if (key === shown) return;
    shown = key;
    print.line('progress', summary(stats), { stats });
  }, PROGRESS_INTERVAL_MS);

  await new Promise<void>((resolve) => stopSignal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(progress);
  print.line('stopping', 'Stopping: queuing what was read, delivering what can be delivered in a few seconds', {});
  await agent.stop();
  const stats = agent.stats();
  print.line('stopped', `Stopped. ${summary(stats)}`, { stats });
  return ExitCode.ok;
}

/** Aborts on SIGINT (via abortOnInterrupt, so a second Ctrl-C quits at once) or SIGTERM. */
function stopOnSignals(): AbortSignal {
  const terminated = new AbortController();
  process.once('SIGTERM', () => terminated.abort());
  return AbortSignal.any([abortOnInterrupt(), terminated.signal]);
}

function summary(stats: AgentStats): string {
  const dropped = stats.dropped.queue_full + stats.dropped.disk_full + stats.dropped.rejected;
  const reasons = dropped > 0 ? ` (queue full ${stats.dropped.queue_full}, disk full ${stats.dropped.disk_full}, rejected ${stats.dropped.rejected})` : '';
  return `following ${stats.following} containers; received ${stats.received}, shipped ${stats.shipped}, in queue ${stats.inQueue}, dropped ${dropped}${reasons}`;
}

/** `--header Name=value` pairs; values never reach the output. */
function parseHeaders(pairs: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--header "${pair.slice(0, 40)}": expected Name=value`);
    headers[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return headers;
}


/** Text lines on stderr, or JSON lines on stdout. Retries print once per reason, not once per attempt. */
function printer(output: 'text' | 'json') {
  let lastRetry = '';
  const line = (event: string, text: string, data: Record<string, unknown>): void => {
    if (output === 'json') process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...data })}\n`);
    else process.stderr.write(`${pc.dim(new Date().toISOString())} ${text}\n`);
  };
  return {
    line,
    event(event: AgentEvent): void {
      switch (event.type) {
        case 'follow':
          return line('follow', `following ${event.container} (${event.project}/${event.service})`, { ...event });
        case 'unfollow':
          return line('unfollow', `${event.container} was removed; no longer followed`, { ...event });
        case 'retry':
          if (event.reason === lastRetry) return;
          lastRetry = event.reason;
          return line('retry', `${pc.yellow('cannot deliver')} ${event.reason}; records stay queued and are retried`, { ...event });
        case 'shipped':
          if (lastRetry !== '') line('recovered', 'delivering again', {});
          lastRetry = '';
          if (event.rejected > 0) line('partial', `${pc.yellow('endpoint rejected')} ${event.rejected} records: ${event.message}`, { ...event });
          return;
        case 'refused':
          return line('refused', `${pc.red('endpoint refused')} ${event.records} records for good: ${event.message}`, { ...event });
        case 'dropped':
          // Counted in the progress lines; one line per dropped batch would flood a full queue's output.
          return;
        case 'warning':
          return line('warning', `${pc.yellow('warning')} ${event.message}`, { ...event });
      }
    },
  };
}
