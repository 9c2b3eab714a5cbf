import { existsSync } from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import { ExitCode, FlotillaError, UsageError } from '../../core/errors.js';
import type { StartedControlPlane } from '../../mesh/control-plane.js';
import { TOXIPROXY_DEFAULT_PORT } from '../../mesh/toxiproxy-api.js';
import { startCollector, userStateDir, type CollectorHandle } from '../../server/index.js';
import { tryParseDuration } from '../../spec/duration.js';
import { superviseAgent } from '../agent-supervisor.js';

interface ServeCliOptions {
  host: string[];
  port: number;
  dataDir?: string;
  retentionAge: string;
  retentionRecords: number;
  retentionSize: string;
  agent: boolean;
  /** Port of the mesh control plane (Toxiproxy-compatible API, 127.0.0.1 only); 8474 when not given. */
  meshPort?: number;
  /** false with --no-mesh: no mesh control plane. */
  mesh?: boolean;
  output: 'text' | 'json';
}

/** How often a line of ingest progress may be printed, when something changed. */
const PROGRESS_EVERY_MS = 10_000;

/**
 * `flotilla serve`: the collector (OTLP/HTTP on 4318 and the query API), unless --no-mesh the mesh
 * control plane (Toxiproxy-compatible, 127.0.0.1:8474), and unless --no-agent an agent shipping
 * the logs of the local Engine's containers to the collector. Runs until SIGINT/SIGTERM.
 */
export async function run(options: ServeCliOptions): Promise<number> {
  const maxAgeMs = tryParseDuration(options.retentionAge.replace(/(\d+)d/g, (_, days: string) => `${Number(days) * 24}h`));
  if (maxAgeMs === undefined || maxAgeMs <= 0) throw new UsageError(`--retention-age "${options.retentionAge}": expected a duration such as 72h or 7d`);
  const maxBytes = parseSize(options.retentionSize);
  const stateDir = userStateDir();
  const dataDir = options.dataDir ?? stateDir;
  // By default the loopback address (the CLI, the host) and the Docker bridge (containers on this host), never beyond.
  const hosts = options.host.length > 0 ? options.host : ['127.0.0.1', ...(await hostGatewayAddress())];
  const json = options.output === 'json';
  // Everything serve prints is progress: stderr as text, stdout as JSON lines for scripts.
  const say = (event: string, text: string, fields: Record<string, unknown>): void => {
    if (json) process.stdout.write(`${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n`);
    else process.stderr.write(`${text}\n`);
  };
  let fatal: Error | undefined;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });

  // The bundled CLI ships the store writer next to itself; run from source, the store is written in process.
  const writerScript = path.join(path.dirname(process.argv[1] ?? ''), 'flotilla-store-writer.cjs');
  const collector = await startCollector({
    dataDir,
    ...(existsSync(writerScript) ? { writerScript } : {}),
    hosts,
    port: options.port,
    stateDir,
    retention: { maxAgeMs, maxRecords: options.retentionRecords, maxBytes },
    onEvicted: (evicted) => say('evicted', `Retention removed ${Object.entries(evicted).map(([kind, count]) => `${count} ${kind}`).join(', ')}`, { evicted }),
    onRetentionError: (error) => say('retention-failed', `${pc.red('retention failed:')} ${(error as Error).message}`, { message: (error as Error).message }),
    onError: (error) => say('error', `${pc.red('error')} ${(error as Error).stack ?? String(error)}`, { message: (error as Error).message }),
    onFatal: (error) => {
      fatal = error;
      wake();
    },
  });
  say('listening', `Collector listening on ${collector.listening.map((address) => `http://${address}`).join(', ')} (OTLP/HTTP /v1/logs, /v1/traces, /v1/metrics; API /api)\n` +
    `  data ${dataDir}, retention ${options.retentionAge}, ${options.retentionSize} or ${options.retentionRecords.toLocaleString('en')} records per kind; API token in ${stateDir}/serve.json`, {
    listening: collector.listening, url: collector.url, dataDir,
  });

  const mesh = options.mesh === false ? undefined : await startMesh(options.meshPort ?? TOXIPROXY_DEFAULT_PORT, say);

  const agent = options.agent
    ? superviseAgent({
      endpoint: collector.url,
      stateDir,
      json,
      print: (line, fromAgent) => {
        if (json && fromAgent) process.stdout.write(`${line}\n`);
        else if (json) say('agent-restart', line, {});
        else process.stderr.write(`${pc.dim('agent |')} ${line}\n`);
      },
    })
    : undefined;
  const progress = setInterval(reportProgress(collector, say), PROGRESS_EVERY_MS);

  await stopped;
  clearInterval(progress);
  if (fatal) say('failed', `${pc.red('The collector cannot go on:')} ${fatal.message}`, { message: fatal.message });
  say('stopping', 'Stopping: the agent first, then the collector (what it accepted is committed)', {});
  await agent?.stop();
  await mesh?.close();
  await collector.close();
  say('stopped', 'Stopped', { stats: collector.app.ingest.counters(), agentRestarts: agent?.restarts ?? 0 });
  return fatal ? ExitCode.failed : ExitCode.ok;
}

/**
 * The mesh control plane over every proxy container of the Engine. It is an extra: a port already
 * taken (another serve, a Toxiproxy) is reported and the collector runs on without it.
 */
async function startMesh(port: number, say: (event: string, text: string, fields: Record<string, unknown>) => void): Promise<StartedControlPlane | undefined> {
  const [{ startControlPlane }, { driverDiscovery }, { createDockerDriver }] = await Promise.all([
    import('../../mesh/control-plane.js'),
    import('../../mesh/control-plane-discovery.js'),
    import('../../runtime/docker/index.js'),
  ]);
  try {
    const mesh = await startControlPlane({
      port,
      discovery: driverDiscovery(createDockerDriver({ env: process.env })),
      onInternalError: (error) => say('error', `${pc.red('mesh API error')} ${(error as Error).stack ?? String(error)}`, { message: (error as Error).message }),
    });
    say('mesh-listening', `Mesh API (Toxiproxy-compatible) on ${mesh.url}: the proxies of every meshed service on this Engine; \`flotilla fault\` talks to it`, { url: mesh.url });
    return mesh;
  } catch (error) {
    const hint = error instanceof FlotillaError && error.hint ? ` ${error.hint}` : '';
    say('mesh-failed', `${pc.yellow('warning')} the mesh API is not running: ${(error as Error).message}.${hint}`, { message: (error as Error).message });
    return undefined;
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** Bytes in a size such as 500MB, 10GB or 2GiB. */
function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = SIZE_UNITS[(match?.[2] ?? '?').toLowerCase()];
  const bytes = match && factor !== undefined ? Number(match[1]) * factor : NaN;
  if (!(bytes >= 1_000_000)) throw new UsageError(`--retention-size "${text}": expected a size of at least 1MB, such as 500MB or 10GB`);
  return Math.floor(bytes);
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
    const refused = counters.refused.overloaded + counters.refused.unavailable + counters.refused.invalid;
    say('progress', `${pc.dim(new Date().toISOString())} stored ${logs} logs, ${traces} spans, ${metrics} metric points${refused ? `; refused ${refused} requests (429/503/400)` : ''}`, { counters });
  };
}
