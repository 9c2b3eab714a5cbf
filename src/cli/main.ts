/**
 * The `flotilla` CLI: a thin adapter that maps flags to options and calls the API. Each command's
 * module is imported only when that command runs, so `--help` and start-up stay fast.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { FLOTILLA_VERSION } from '../core/version.js';
import { handleFailure } from './failure.js';
import type { GlobalOptions } from './context.js';

const program = new Command('flotilla')
  .description('Build, run, test and observe Docker-based microservices from the Compose file you already have.')
  .version(FLOTILLA_VERSION)
  .option('-f, --file <path>', 'Compose file (repeatable; merged in order)', collect, [])
  .option('-p, --project-name <name>', 'project name (default: name:, else the directory)')
  .option('--project-directory <dir>', 'directory relative paths are resolved against')
  .option('--env-file <path>', 'environment file for interpolation (repeatable; default .env)', collect, [])
  .option('--profile <name>', 'enable a profile (repeatable)', collect, [])
  .enablePositionalOptions()
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false })
  // Usage errors exit 2 (help and --version exit 0). Set before the subcommands, which copy it when created.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

const output = (choices: string[], fallback: string) =>
  new Option('-o, --output <format>', 'output format').choices(choices).default(fallback);

program
  .command('config')
  .description('print the resolved stack, every default applied')
  .addOption(output(['yaml', 'json'], 'yaml'))
  .option('--services', 'print only the service names')
  .action(lazy(() => import('./commands/config.js')));

program
  .command('up')
  .description('create and start the stack, dependencies first; idempotent')
  .argument('[services...]', 'services to bring up, with their dependencies (default: all)')
  .option('--dry-run', 'print the plan and change nothing')
  .option('--wait', 'return once every service is healthy (or running, or completed)')
  .option('--wait-timeout <seconds>', 'give up waiting after this long', parseSeconds)
  .option('--build', 'build images even when they exist')
  .option('--force-recreate', 'recreate containers even when their config did not change')
  .option('--no-recreate', 'never recreate existing containers')
  .option('--remove-orphans', 'remove containers of services no longer in the stack')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/up.js')));

program
  .command('build')
  .description('build the services that have a build section, skipping every image whose inputs did not change')
  .argument('[services...]', 'services to build (default: all with a build section)')
  .option('-j, --jobs <n>', 'builds at once (default: the number of CPUs)', parseCount)
  .option('--require-clean', 'refuse to build from uncommitted changes')
  .option('--force', 'build even when an image of the same build version exists')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/build.js')));

program
  .command('test')
  .description('run the test suites of x-flotilla.tests, each in fresh containers; runs that passed with the same inputs are cached')
  .argument('[selectors...]', 'SERVICE, SERVICE:SUITE, SUITE, or one matrix cell SERVICE:SUITE[VAR=value] (default: all)')
  .option('-j, --jobs <n>', 'runs at once (default: the number of CPUs)', parseCount)
  .option('--force', 'run again even what passed before with the same inputs')
  .option('--junit <file>', 'write every run’s results to one JUnit XML file')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/test.js')));

program
  .command('down')
  .description('stop and remove the containers and networks of the stack')
  .option('-v, --volumes', 'also remove the named volumes the stack declares')
  .option('--remove-orphans', 'also remove containers of services no longer in the stack')
  .option('--dry-run', 'print the plan and change nothing')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/down.js')));

program
  .command('ps')
  .description('list the containers of the stack')
  .argument('[services...]', 'only these services')
  .addOption(output(['table', 'json'], 'table'))
  .action(lazy(() => import('./commands/ps.js')));

program
  .command('logs')
  .description('print the logs of the stack’s services: from the collector when `flotilla serve` runs, else from the Engine')
  .argument('[services...]', 'only these services')
  .option('-f, --follow', 'keep printing new lines')
  .option('--since <time>', 'only lines since a time: a duration ago (10m, 1h30m) or an RFC 3339 timestamp')
  .option('--tail <lines>', 'only the last N lines (of each container, from the Engine)', parseCount)
  .option('-t, --timestamps', 'prefix each line with its timestamp')
  .option('--no-prefix', 'do not prefix lines with the container name')
  .option('--until <time>', 'only lines before a time (collector)')
  .option('--grep <text>', 'only lines containing these words, in this order (collector, full-text)')
  .addOption(new Option('--level <level>', 'only lines of this severity or worse (collector)').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal']))
  .option('--trace-id <id>', 'only lines logged inside this trace (collector)')
  .option('--engine', 'read the Engine’s logs even when the collector runs')
  .action(lazy(() => import('./commands/logs.js')));

program
  .command('exec')
  .description('run a command in a running container of a service')
  .argument('<service>', 'the service')
  .argument('<command...>', 'the command and its arguments')
  .option('--index <n>', 'which replica (default 1)', parseCount, 1)
  .option('-T, --no-tty', 'do not allocate a TTY')
  .option('-u, --user <user>', 'run as this user')
  .option('-w, --workdir <dir>', 'working directory')
  .option('-e, --env <KEY=VALUE>', 'set a variable (repeatable)', collect, [])
  .passThroughOptions()
  .action(lazy(() => import('./commands/exec.js')));

program
  .command('trace')
  .description('walk from a container, service or image back to the commit and tag it was built from; with --commit, from a commit to where it runs')
  .argument('[target]', 'a container (name or id), a service, or an image (reference, id, short id or digest)')
  .option('--commit <ref>', 'a commit (4+ hex digits) or a tag: list the running containers built from it')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/trace.js')));

program
  .command('provenance')
  .description('print the in-toto provenance statement recorded when this project built an image')
  .argument('<image>', 'an image reference, id, short id or digest')
  .addOption(output(['pretty', 'json'], 'pretty'))
  .action(lazy(() => import('./commands/provenance.js')));

program
  .command('serve')
  .description('run the collector (OTLP/HTTP on 4318, query API), the mesh API (127.0.0.1:8474) and an agent shipping this Engine’s container logs to it')
  .option('--host <address>', 'listen on this address (repeatable; default 127.0.0.1 and the Docker bridge, for containers)', collect, [])
  .option('--port <port>', 'port of OTLP/HTTP and the API', parsePort, 4318)
  .option('--data-dir <dir>', 'where telemetry.db lives (default: the user state directory, ~/.local/state/flotilla)')
  .option('--retention-age <duration>', 'drop records older than this', '7d')
  .option('--retention-records <n>', 'keep at most this many records of each kind', parseCount, 10_000_000)
  .option('--retention-size <size>', 'keep the data under this size on disk (500MB, 10GB)', '5GB')
  .option('--no-agent', 'do not ship the local Engine’s container logs')
  .option('--mesh-port <port>', 'port of the mesh API (Toxiproxy-compatible, always 127.0.0.1)', parsePort, 8474)
  .option('--no-mesh', 'do not serve the mesh API')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/serve.js')));

program
  .command('agent')
  .description('ship the logs of this Engine’s Flotilla containers to an OTLP endpoint, through a disk-backed queue')
  .option('--endpoint <url>', 'OTLP/HTTP base URL', 'http://127.0.0.1:4318')
  .option('--header <name=value>', 'send this header with every request (repeatable; also OTEL_EXPORTER_OTLP_HEADERS)', collect, [])
  .option('--state-dir <dir>', 'where agent.db (queue and cursors) lives (default: the user state directory)')
  .option('--project <name>', 'only this project (repeatable; default: every Flotilla project)', collect, [])
  .option('--max-queue <records>', 'records the queue holds before new ones are dropped (and counted)', parseCount)
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/agent.js')));

const traces = program
  .command('traces')
  .description('search traces in the collector: by service, operation, duration, error and time')
  .option('--service <name>', 'a span of this service…')
  .option('--operation <name>', '…with this name…')
  .option('--min-duration <duration>', '…lasting at least this long (250ms, 2s)…')
  .option('--error', '…that failed')
  .option('--since <time>', 'from a time: a duration ago (15m) or a timestamp', '1h')
  .option('--until <time>', 'until a time')
  .option('--limit <n>', 'at most this many traces', parseCount, 20)
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/traces.js')));

traces
  .command('show')
  .description('draw the span tree of one trace, with timings')
  .argument('<trace-id>', '32 hex digits')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/traces-show.js')));

program
  .command('map')
  .description('the service dependency map over a window: calls, error rate and latency per edge, RED per service and operation')
  .option('--since <time>', 'from a time: a duration ago (15m) or a timestamp', '15m')
  .option('--until <time>', 'until a time (default: now)')
  .option('--service <name>', 'also show the entry points that suffer when this service fails (impact)')
  .addOption(output(['text', 'dot', 'json'], 'text'))
  .action(lazy(() => import('./commands/map.js')));

for (const [name, description] of [
  ['start', 'start stopped containers, dependencies first'],
  ['stop', 'stop running containers, dependents first'],
  ['restart', 'restart containers'],
] as const) {
  program
    .command(name)
    .description(description)
    .argument('[services...]', 'only these services (default: all)')
    .option('--dry-run', 'print the plan and change nothing')
    .addOption(output(['text', 'json'], 'text'))
    .action(lazy(() => import('./commands/lifecycle.js'), name));
}

const chaos = program
  .command('chaos')
  .description('chaos experiments: check a steady state, break something under load, check again, roll back');

chaos
  .command('run')
  .description('run one experiment and report its verdict (exit 0 passed, 1 failed or aborted)')
  .argument('<name>', 'an experiment of x-flotilla.experiments or of a --file')
  .option('--file <path>', 'a YAML file of experiments, name → experiment (repeatable)', collect, [])
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/chaos.js'), 'run'));

chaos
  .command('ls')
  .description('list the experiments of the stack and of the --file files')
  .option('--file <path>', 'a YAML file of experiments (repeatable)', collect, [])
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/chaos.js'), 'ls'));

const fault = program
  .command('fault')
  .description('add, list and remove faults on meshed services, through the mesh API of `flotilla serve` (FLOTILLA_MESH_API, else 127.0.0.1:8474)');

fault
  .command('add')
  .description('add a fault (a Toxiproxy toxic) to every proxy of a service')
  .argument('<service>', 'a meshed service (S or PROJECT.S) or one of its proxies (S-PORT)')
  .argument('<type>', 'latency, bandwidth, slicer, reset_peer, timeout, limit_data, http_abort, http_drop, http_duplicate or http_delay')
  .option('--name <name>', 'the fault’s name (default: TYPE_STREAM)')
  .addOption(new Option('--stream <stream>', 'the direction it acts on').choices(['upstream', 'downstream']).default('downstream'))
  .option('--toxicity <probability>', 'the share of connections (or requests) it applies to, 0 to 1', '1')
  .option('--attr <key=value>', 'an attribute of the type, such as latency=100 (repeatable)', collect, [])
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/fault.js'), 'add'));

fault
  .command('ls')
  .description('list the faults on the project’s meshed services (every project’s without a compose file), or on one')
  .argument('[service]', 'only this service')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/fault.js'), 'ls'));

fault
  .command('rm')
  .description('remove a fault from a service')
  .argument('<service>', 'the service (or proxy) it is on')
  .argument('<name>', 'the fault’s name, as `fault ls` shows it')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/fault.js'), 'rm'));

fault
  .command('reset')
  .description('remove every fault and enable every proxy, on the project’s meshed services (every project’s without a compose file)')
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/fault.js'), 'reset'));

program
  .command('mesh')
  .description('the service mesh')
  .command('api')
  .description('serve the mesh control plane alone (Toxiproxy-compatible, 127.0.0.1 only), as `flotilla serve` does')
  .option('--port <port>', 'port of the API', parsePort, 8474)
  .addOption(output(['text', 'json'], 'text'))
  .action(lazy(() => import('./commands/mesh-api.js')));

program
  .command('mesh-proxy', { hidden: true })
  .description('run a mesh proxy from FLOTILLA_MESH_CONFIG (what a proxy container runs)')
  .action(lazy(() => import('./commands/mesh-proxy.js')));

/** Commands export `run(...args, options, global)`; a command's module loads only when it runs. */
function lazy(load: () => Promise<{ run: (...args: never[]) => Promise<number> }>, variant?: string) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const positional = args.slice(0, -2);
    const global: GlobalOptions = program.opts();
    try {
      const { run } = (await load()) as unknown as { run: (...a: unknown[]) => Promise<number> };
      process.exitCode = await run(...(variant ? [variant] : []), ...positional, command.opts(), global);
    } catch (error) {
      process.exitCode = handleFailure(error);
    }
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InvalidArgumentError(`expected a number of seconds, got "${value}"`);
  return seconds;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return port;
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return count;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.exitCode = handleFailure(error);
});
