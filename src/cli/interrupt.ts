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

/** Where signals come from: the process, or an EventEmitter in tests. */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

/** An interrupt that aborts work whose clean-up must not be skipped; dispose it once the work is done. */
export interface UnskippableInterrupt {
  readonly signal: AbortSignal;
  /** Stops listening for signals. */
  dispose(): void;
}

/**
 * For work that leaves something to undo (a chaos experiment's faults and rollbacks): SIGINT and
 * SIGTERM both abort it, and any later one only warns — the undo runs to its end either way, since
 * quitting half-way could leave faults in the mesh or containers stopped. Listening for SIGTERM
 * also keeps Node from dying on it before the undo.
 */
export function abortUnskippably(options: { source?: SignalSource; write?: (text: string) => void; what?: string } = {}): UnskippableInterrupt {
  const source = options.source ?? process;
  const write = options.write ?? ((text: string) => void process.stderr.write(text));
  const what = options.what ?? 'rolling back';
  const controller = new AbortController();
  const onSignal = (): void => {
    if (!controller.signal.aborted) {
      write(`\nInterrupted: stopping, then ${what} (that is not skipped)\n`);
      controller.abort();
      return;
    }
    write(`Still ${what}: it runs to its end so nothing is left behind; wait for it\n`);
  };
  source.on('SIGINT', onSignal);
  source.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      source.off('SIGINT', onSignal);
      source.off('SIGTERM', onSignal);
    },
  };
}
