import pc from 'picocolors';
import type { ProgressEvent } from '../../deploy/execute.js';

/** Build and pull output worth a line without --verbose: Dockerfile steps, pull status, warnings. */
const SHOWN_OUTPUT = /^(Step \d+\/\d+ :|warning|[0-9a-z.-]+: Pull|Status:)/i;

/**
 * Renders executor progress on stderr, one line per change, so it reads the same in a terminal
 * and in a CI log: `✔ container shop-db-1  Started  0.4s`. Of a build's output only its steps
 * and warnings are shown (a failed build's error carries its last lines); FLOTILLA_VERBOSE=1
 * shows all of it.
 */
export function createProgressRenderer(
  stream: NodeJS.WritableStream = process.stderr,
  verbose = Boolean(process.env['FLOTILLA_VERBOSE']),
): (event: ProgressEvent) => void {
  const startedAt = new Map<string, number>();
  const width = 32;
  return (event) => {
    const now = Date.now();
    switch (event.status) {
      case 'working': {
        if (!startedAt.has(event.resource)) {
          startedAt.set(event.resource, now);
          stream.write(`  ${pc.dim('•')} ${event.resource.padEnd(width)} ${event.text}\n`);
        } else if (event.text.trim() !== '' && (verbose || SHOWN_OUTPUT.test(event.text))) {
          // Build and pull output, indented under its resource.
          stream.write(pc.dim(`      ${event.text.trimEnd()}\n`));
        }
        return;
      }
      case 'done': {
        const elapsed = ((now - (startedAt.get(event.resource) ?? now)) / 1000).toFixed(1);
        startedAt.delete(event.resource);
        stream.write(`  ${pc.green('✔')} ${event.resource.padEnd(width)} ${event.text} ${pc.dim(`${elapsed}s`)}\n`);
        return;
      }
      case 'waiting':
        stream.write(`  ${pc.cyan('◌')} ${event.text}\n`);
        return;
      case 'failed':
        stream.write(`  ${pc.red('✘')} ${event.resource.padEnd(width)} ${pc.red(event.text)}\n`);
        return;
      case 'skipped':
        stream.write(`  ${pc.yellow('-')} ${event.resource.padEnd(width)} ${event.text}\n`);
        return;
    }
  };
}
