import { ExitCode, UsageError } from '../../core/errors.js';
import type { CommitTraceResult } from '../../provenance/index.js';
import type { Stack } from '../../spec/types.js';
import { loadStackFor, type GlobalOptions } from '../context.js';
import { renderTable } from '../output/table.js';

interface TraceCliOptions {
  commit?: string;
  output: 'text' | 'json';
}

/** `flotilla trace TARGET` and `flotilla trace --commit REF`. */
export async function run(target: string | undefined, options: TraceCliOptions, global: GlobalOptions): Promise<number> {
  if ((target === undefined) === (options.commit === undefined)) {
    throw new UsageError(target === undefined ? 'trace needs a TARGET (container, service, image) or --commit REF' : 'give either a TARGET or --commit REF, not both');
  }
  const [stack, driver, provenance, { resolveRef }] = await Promise.all([
    optionalStack(global),
    import('../../runtime/docker/index.js').then(({ createDockerDriver }) => createDockerDriver({ env: process.env })),
    import('../../provenance/index.js'),
    import('../../build/git.js'),
  ]);
  // Read-only: a project that never built has no state database, and trace does not create one.
  const store = stack ? provenance.openStateStoreIfExists(provenance.stateDirectory(stack)) : undefined;
  const deps = { driver, store, stack, git: { resolveRef, dir: stack?.workingDir ?? process.cwd() } };
  try {
    if (options.commit !== undefined) {
      const result = await provenance.traceCommit(options.commit, deps);
      if (options.output === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else printCommitTrace(result);
    } else if (target !== undefined) {
      const result = await provenance.trace(target, deps);
      process.stdout.write(options.output === 'json' ? `${JSON.stringify(result, null, 2)}\n` : provenance.traceText(result));
    }
  } finally {
    store?.close();
  }
  return ExitCode.ok;
}

/** The stack when there is a Compose file; trace also works from anywhere, on containers and images alone. */
async function optionalStack(global: GlobalOptions): Promise<Stack | undefined> {
  try {
    return await loadStackFor(global);
  } catch (error) {
    // Only "there is no Compose file" is optional; a broken one is still reported.
    if (global.file.length === 0 && error instanceof UsageError && error.message.startsWith('no Compose file found')) return undefined;
    throw error;
  }
}

function printCommitTrace(result: CommitTraceResult): void {
  const asked = result.resolved && !result.resolved.startsWith(result.ref.toLowerCase()) ? `${result.ref} (${result.resolved.slice(0, 12)})` : result.ref;
  if (result.containers.length === 0) {
    process.stderr.write(`No running container runs an image built from ${asked}.\n`);
    return;
  }
  process.stderr.write(`Running containers built from ${asked}:\n`);
  process.stdout.write(
    renderTable(
      ['CONTAINER', 'SERVICE', 'PROJECT', 'IMAGE', 'BUILT', 'TAG', 'COMMIT', 'FROM'],
      result.containers.map((match) => [
        match.container,
        match.service,
        match.project,
        match.image,
        match.builtAt ?? '-',
        match.tag ?? '-',
        match.commit?.slice(0, 12) ?? '-',
        match.from,
      ]),
    ),
  );
}
