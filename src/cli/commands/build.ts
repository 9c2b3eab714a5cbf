import { availableParallelism } from 'node:os';
import pc from 'picocolors';
import { buildService, resolveBuilds, type ResolvedBuild } from '../../build/builder.js';
import { settleWithLimit } from '../../core/concurrency.js';
import { ExitCode, FlotillaError, UsageError } from '../../core/errors.js';
import { lazyProjectStore } from '../../provenance/project-store.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { createProgressRenderer } from '../output/progress.js';
import { renderTable } from '../output/table.js';

interface BuildCliOptions {
  jobs?: number;
  requireClean?: boolean;
  force?: boolean;
  output: 'text' | 'json';
}

/** One line of the summary, also its JSON form. */
interface BuildOutcome {
  service: string;
  version: string;
  image: string;
  imageId: string | null;
  status: 'built' | 'up to date' | 'failed';
  commit: string | null;
  dirty: boolean | null;
  seconds: number;
  error?: string;
}

/** `flotilla build [SERVICE...]`: builds what changed, in parallel, each image traced to its commit. */
export async function run(services: string[], options: BuildCliOptions, global: GlobalOptions): Promise<number> {
  const { stack, driver, extraLabels } = await commandContext(global, services);
  for (const name of services) {
    const service = stack.services[name];
    if (!service) throw new UsageError(`no such service: ${name}`);
    if (!service.build) throw new UsageError(`service ${name} has no build section: it runs the image ${service.image}`);
  }
  const names = services.length > 0 ? services : Object.values(stack.services).filter((s) => s.build).map((s) => s.name);
  if (names.length === 0) {
    process.stderr.write(`No service of ${stack.name} has a build section: nothing to build.\n`);
    return ExitCode.ok;
  }
  await driver.ping();
  const resolved = await resolveBuilds(driver, stack, names);
  const needed = resolved.filter((build) => options.force || !build.imageId);
  refuseOrWarnDirty(needed, stack.services, options.requireClean ?? false);

  const outcomes: BuildOutcome[] = resolved
    .filter((build) => !needed.includes(build))
    .map((build) => outcome(build, 'up to date', build.imageId ?? null, 0));
  if (needed.length === 0) {
    if (options.output === 'json') process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
    else process.stderr.write(`Nothing to build: ${outcomes.length} image${outcomes.length === 1 ? '' : 's'} of ${stack.name} up to date.\n`);
    return ExitCode.ok;
  }

  const state = lazyProjectStore(stack);
  const progress = createProgressRenderer();
  try {
    const settled = await settleWithLimit(needed, options.jobs ?? availableParallelism(), async (build) => {
      const resource = `image ${build.tag}`;
      const started = Date.now();
      progress({ resource, service: build.service, status: 'working', text: `Building ${build.service}` });
      try {
        const record = await buildService(build, {
          driver,
          stack,
          extraLabels,
          record: state.recordBuild,
          onProgress: (line) => progress({ resource, service: build.service, status: 'working', text: line }),
        });
        progress({ resource, service: build.service, status: 'done', text: 'Built' });
        return outcome(build, 'built', record.imageId, (Date.now() - started) / 1000);
      } catch (error) {
        progress({ resource, service: build.service, status: 'failed', text: 'Build failed' });
        // A failed build is an outcome, not an exception: the builds beside it go on.
        return { ...outcome(build, 'failed', null, (Date.now() - started) / 1000), error: error instanceof Error ? error.message : String(error) };
      }
    });
    for (const result of settled) {
      if (result.status === 'rejected') throw result.reason;
      outcomes.push(result.value);
    }
  } finally {
    state.close();
  }

  outcomes.sort((a, b) => a.service.localeCompare(b.service));
  if (options.output === 'json') {
    process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
  } else {
    process.stdout.write(
      renderTable(
        ['SERVICE', 'STATUS', 'VERSION', 'IMAGE', 'COMMIT', 'TIME'],
        outcomes.map((o) => [o.service, o.status, o.version.slice(0, 12), o.image, o.commit ? `${o.commit.slice(0, 12)}${o.dirty ? ' (dirty)' : ''}` : '-', `${o.seconds.toFixed(1)}s`]),
      ),
    );
    for (const failed of outcomes.filter((o) => o.status === 'failed')) process.stderr.write(`\n${pc.red('✘')} ${failed.service}: ${failed.error ?? 'failed'}\n`);
  }
  return outcomes.some((o) => o.status === 'failed') ? ExitCode.failed : ExitCode.ok;
}

/** Building from a dirty tree warns; with --require-clean it refuses before anything is built. */
function refuseOrWarnDirty(needed: ResolvedBuild[], services: Record<string, { build?: { context: string } }>, requireClean: boolean): void {
  const dirty = needed.filter((build) => build.git?.dirty).map((build) => build.service);
  if (dirty.length === 0) return;
  const where = dirty.map((service) => `${service} (${services[service]?.build?.context ?? '?'})`).join(', ');
  if (requireClean) {
    throw new FlotillaError('DIRTY_TREE', `uncommitted changes in the build context of ${where}`, {
      hint: 'Commit or stash them, or build without --require-clean (the image is then labelled dirty).',
    });
  }
  process.stderr.write(`${pc.yellow('warning')} building from uncommitted changes: ${where}; the images are labelled dirty\n`);
}

function outcome(build: ResolvedBuild, status: BuildOutcome['status'], imageId: string | null, seconds: number): BuildOutcome {
  const { git } = build;
  return { service: build.service, version: build.version.version, image: build.tag, imageId, status, commit: git?.commit ?? null, dirty: git ? git.dirty : null, seconds };
}
