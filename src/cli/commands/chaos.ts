/**
 * `flotilla chaos run NAME` and `flotilla chaos ls`: experiments from `x-flotilla.experiments` and
 * from `--file` files. Progress goes to stderr, the report to stdout (text or JSON).
 */
import path from 'node:path';
import pc from 'picocolors';
import type { ContainerActions } from '../../chaos/index.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import type { ExperimentSpec, Stack } from '../../spec/types.js';
import { findCollector, requireCollector } from '../collector-client.js';
import { loadStackFor, type GlobalOptions } from '../context.js';
import { abortUnskippably, type SignalSource } from '../interrupt.js';
import { renderTable } from '../output/table.js';

/** `chaos run` flags, as commander gives them. */
export interface ChaosRunOptions {
  file: string[];
  output: 'text' | 'json';
}

interface ChaosLsOptions {
  file: string[];
  output: 'text' | 'json';
}

/** An experiment and where it was declared. */
interface Declared {
  experiment: ExperimentSpec;
  source: string;
}

/** What `chaos run` takes from its process: where SIGINT and SIGTERM come from (tests inject them). */
export interface ChaosRunIo {
  signals: SignalSource;
}

/** `chaos run NAME [--file F…]` (action `run`) and `chaos ls [--file F…]` (action `ls`). */
export async function run(action: string, ...rest: unknown[]): Promise<number> {
  if (action === 'ls') {
    const [options, global] = rest as [ChaosLsOptions, GlobalOptions];
    return list(options, global);
  }
  const [name, options, global] = rest as [string, ChaosRunOptions, GlobalOptions];
  return runOne(name, options, global, { signals: process });
}

/**
 * Runs one experiment. Ctrl-C or SIGTERM stops it and rolls back; a further one during the roll
 * back only warns: quitting then would leave faults in the mesh and containers paused or stopped.
 * Its faults are addressed as `<project>.<service>`, so they stay in this project.
 */
export async function runOne(name: string, options: ChaosRunOptions, global: GlobalOptions, io: ChaosRunIo): Promise<number> {
  const { stack, experiments } = await declaredExperiments(options.file, global);
  const found = experiments.get(name);
  if (!found) {
    const { didYouMean } = await import('../../spec/suggest.js');
    const names = [...experiments.keys()].sort();
    throw new UsageError(`no experiment named '${name}'${didYouMean(name, names)}`, {
      hint: names.length > 0 ? `experiments: ${names.join(', ')}` : 'Declare one under x-flotilla.experiments in the Compose file, or pass a file with --file.',
    });
  }
  const { experiment } = found;
  const chaos = await import('../../chaos/index.js');
  const needsRuntime =
    experiment.method.some((step) => step.kind !== 'fault') ||
    experiment.rollbacks.length > 0 ||
    experiment.hypothesis.some((probe) => probe.kind === 'command');
  if (needsRuntime && !stack) {
    throw new UsageError(`experiment '${name}' acts on containers, and no Compose project was found to say which`, {
      hint: 'Run it in the directory of the compose.yaml, or name it with -f.',
    });
  }
  let containers: ContainerActions | undefined;
  if (needsRuntime && stack) {
    const { createDockerDriver } = await import('../../runtime/docker/index.js');
    containers = chaos.createContainerActions(createDockerDriver({ env: process.env }), stack.name);
  }
  const hasFaults = experiment.method.some((step) => step.kind === 'fault');
  const usesCollector = experiment.hypothesis.some((probe) => probe.kind === 'collector');
  const project = stack?.name ?? global.projectName;
  const { parseDuration } = await import('../../spec/duration.js');
  const interrupt = abortUnskippably({ source: io.signals });
  const { signal } = interrupt;

  process.stderr.write(`${pc.bold(`chaos ${name}`)}${found.source ? pc.dim(` (${found.source})`) : ''}\n`);
  const report = await chaos.runExperiment(
    experiment,
    {
      clock: chaos.systemClock,
      probes: chaos.createProbeRunner({
        clock: chaos.systemClock,
        send: chaos.sendHttp,
        ...(usesCollector && { collector: () => findCollector() ?? requireCollector('a collector probe') }),
        ...(containers && { containers }),
      }),
      ...(hasFaults && { faults: chaos.faultClient(chaos.meshClientFromEnv(process.env), project) }),
      ...(containers && { containers }),
      send: chaos.sendHttp,
      stopSeconds: (service) => {
        const grace = stack?.services[service]?.stopGracePeriod;
        return grace === undefined ? undefined : Math.ceil(parseDuration(grace) / 1000);
      },
    },
    {
      signal,
      onEvent: (event) => {
        const line = chaos.progressLine(event);
        if (line !== undefined) process.stderr.write(`${line}\n`);
      },
    },
  ).finally(() => interrupt.dispose());
  if (options.output === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(colorVerdict(chaos.renderReportText(report)));
  if (signal.aborted) return ExitCode.interrupted;
  return chaos.exitCodeFor(report);
}

async function list(options: ChaosLsOptions, global: GlobalOptions): Promise<number> {
  const { experiments } = await declaredExperiments(options.file, global);
  const rows = [...experiments.values()].sort((a, b) => (a.experiment.name < b.experiment.name ? -1 : 1));
  if (options.output === 'json') {
    const data = rows.map(({ experiment, source }) => ({
      name: experiment.name,
      source,
      ...(experiment.description !== undefined && { description: experiment.description }),
      probes: experiment.hypothesis.length,
      steps: experiment.method.length,
      load: experiment.load !== undefined,
      rollbacks: experiment.rollbacks.length,
    }));
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (rows.length === 0) {
    process.stderr.write('No experiments: declare them under x-flotilla.experiments, or pass a file with --file.\n');
    return ExitCode.ok;
  }
  process.stdout.write(
    renderTable(
      ['NAME', 'SOURCE', 'PROBES', 'STEPS', 'LOAD', 'DESCRIPTION'],
      rows.map(({ experiment, source }) => [
        experiment.name,
        source,
        String(experiment.hypothesis.length),
        String(experiment.method.length),
        experiment.load ? `${experiment.load.rate}/s for ${experiment.load.duration}` : '-',
        experiment.description ?? '',
      ]),
    ),
  );
  return ExitCode.ok;
}

/**
 * The stack's experiments, then the files' (a file's experiment replaces the stack's of the same
 * name, with a warning). With `--file`, a missing Compose project is not an error: experiments
 * that only probe HTTP and add faults need none.
 */
async function declaredExperiments(files: readonly string[], global: GlobalOptions): Promise<{ stack: Stack | undefined; experiments: Map<string, Declared> }> {
  let stack: Stack | undefined;
  try {
    stack = await loadStackFor(global);
  } catch (error) {
    if (!(files.length > 0 && error instanceof UsageError && global.file.length === 0)) throw error;
  }
  const experiments = new Map<string, Declared>();
  const composeFile = stack?.files[stack.files.length - 1];
  for (const [name, experiment] of Object.entries(stack?.flotilla.experiments ?? {})) {
    experiments.set(name, { experiment, source: composeFile ? path.relative(process.cwd(), composeFile) || composeFile : 'compose' });
  }
  if (files.length > 0) {
    const { loadExperimentFiles } = await import('../../spec/index.js');
    const loaded = await loadExperimentFiles(files, {
      cwd: process.cwd(),
      env: process.env,
      ...(stack && { services: [...Object.keys(stack.services), ...stack.disabledServices] }),
      onWarning: (message) => process.stderr.write(`${pc.yellow('warning')} ${message}\n`),
    });
    for (const [name, { experiment, file }] of Object.entries(loaded)) {
      const source = path.relative(process.cwd(), file) || file;
      const earlier = experiments.get(name);
      if (earlier) process.stderr.write(`${pc.yellow('warning')} experiment '${name}' of ${source} replaces the one in ${earlier.source}\n`);
      experiments.set(name, { experiment, source });
    }
  }
  return { stack, experiments };
}

function colorVerdict(text: string): string {
  return text.replace(/^Verdict: (PASSED|FAILED|ABORTED)/m, (_line, verdict: string) => `Verdict: ${verdict === 'PASSED' ? pc.green(verdict) : pc.red(verdict)}`);
}
