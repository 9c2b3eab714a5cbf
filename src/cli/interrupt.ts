/**
 * Ctrl-C once: stop scheduling new work and let what is in flight finish, so the next run
 * converges from a clean state. Ctrl-C twice: leave at once.
 */
export function abortOnInterrupt(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nInterrupted: finishing the operations in flight (Ctrl-C again to quit now)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return controller.signal;
}
