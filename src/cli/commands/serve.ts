import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pc from 'picocolors';
import { ExitCode, UsageError } from '../../core/errors.js';
import { startCollector, userStateDir, type CollectorHandle } from '../../server/index.js';
import { tryParseDuration } from '../../spec/duration.js';

interface ServeCliOptions {
  host: string[];
  port: number;
  dataDir?: string;
  retentionAge: string;
  retentionRecords: number;
  agent: boolean;
  output: 'text' | 'json';
}

/** How often a line of ingest progress may be printed, when something changed. */
const PROGRESS_EVERY_MS = 10_000;

/**
 * `flotilla serve`: the collector (OTLP/HTTP on 4318 and the query API) and, unless --no-agent,
 * an agent shipping the logs of the local Engine's containers to it. Runs until SIGINT/SIGTERM.
 */
export async function run(options: ServeCliOptions): Promise<number> {
  const maxAgeMs = tryParseDuration(options.retentionAge.replace(/(\d+)d/g, (_, days: string) => `${Number(days) * 24}h`));
  if (maxAgeMs === undefined || maxAgeMs <= 0) throw new UsageError(`--retention-age "${options.retentionAge}": expected a duration such as 72h or 7d`);
  const stateDir = userStateDir();
  const dataDir = options.dataDir ?? stateDir;
  // By default the loopback address (the CLI, the host) and the Docker bridge (containers on this host), never beyond.
  const hosts = options.host.length > 0 ? options.host : ['127.0.0.1', ...(await hostGatewayAddress())];
  const json = options.output === 'json';
  const say = (event: string, text: string, fields: Record<string, unknown>): void => {
    process.stdout.write(json ? `${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n` : `${text}\n`);
  };

  // The bundled CLI ships the store writer next to itself; run from source, the store is written in process.
  const writerScript = path.join(path.dirname(process.argv[1] ?? ''), 'flotilla-store-writer.cjs');
  const collector = await startCollector({
    dataDir,
    ...(existsSync(writerScript) ? { writerScript } : {}),
    hosts,
    port: options.port,
    stateDir,
    retention: { maxAgeMs, maxRecords: options.retentionRecords },
    onEvicted: (evicted) => say('evicted', `Retention removed ${Object.entries(evicted).map(([kind, count]) => `${count} ${kind}`).join(', ')}`, { evicted }),
    onRetentionError: (error) => say('retention-failed', `${pc.red('retention failed:')} ${(error as Error).message}`, { message: (error as Error).message }),
  });
  say('listening', `Collector listening on ${collector.listening.map((address) => `http://${address}`).join(', ')} (OTLP/HTTP /v1/logs, /v1/traces, /v1/metrics; API /api)\n` +
    `  data ${dataDir}, retention ${options.retentionAge} or ${options.retentionRecords.toLocaleString('en')} records per kind; API token in ${stateDir}/serve.json`, {
    listening: collector.listening, url: collector.url, dataDir,
  });

  const agent = options.agent ? startAgentProcess(collector, stateDir, json) : undefined;
  const progress = setInterval(reportProgress(collector, say), PROGRESS_EVERY_MS);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(progress);
  say('stopping', 'Stopping: the agent first, then the collector (what it accepted is committed)', {});
  if (agent) await stopChild(agent);
  await collector.close();
  say('stopped', 'Stopped', { stats: collector.app.ingest.counters() });
  return ExitCode.ok;
}

/** Where this host's containers reach it (`host.docker.internal`), or nothing with a warning when the Engine does not say. */
async function hostGatewayAddress(): Promise<string[]> {
  try {
    const { createDockerDriver } = await import('../../runtime/docker/index.js');
    const address = await createDockerDriver({ env: process.env }).hostGatewayAddress();
    if (address) return [address];
    process.stderr.write(`${pc.yellow('warning')} the Docker Engine has no default bridge: containers cannot reach the collector; listening on 127.0.0.1 only\n`);
  } catch (error) {
    process.stderr.write(`${pc.yellow('warning')} ${(error as Error).message}: containers cannot reach the collector until serve restarts with the Engine running; listening on 127.0.0.1 only\n`);
  }
  return [];
}

function reportProgress(collector: CollectorHandle, say: (event: string, text: string, fields: Record<string, unknown>) => void): () => void {
  let last = '';
  return () => {
    const counters = collector.app.ingest.counters();
    const key = JSON.stringify([counters.accepted, counters.refused]);
    if (key === last) return;
    last = key;
    const { logs, traces, metrics } = counters.accepted;
    const refused = counters.refused.overloaded + counters.refused.unavailable;
    say('progress', `${pc.dim(new Date().toISOString())} received ${logs} logs, ${traces} spans, ${metrics} metric points${refused ? `, refused ${refused} requests (429/503)` : ''}`, { counters });
  };
}

/** The agent runs as a child process of its own: its CPU and its crashes stay apart from the collector's. */
function startAgentProcess(collector: CollectorHandle, stateDir: string, json: boolean): ChildProcess {
  const cli = process.argv[1] ?? '';
  const child = spawn(process.execPath, [cli, 'agent', '--endpoint', collector.url, '--state-dir', stateDir, ...(json ? ['--output', 'json'] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(json ? `${line}\n` : `${pc.dim('agent |')} ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`${pc.red('agent exited')} (${signal ?? `code ${code}`}); logs are not shipped until serve restarts\n`);
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timeout);
}
