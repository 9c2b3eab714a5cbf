import { join } from 'node:path';
import type { BuildRecord } from '../build/types.js';
import type { Stack } from '../spec/types.js';
import type { StateStore } from './state-store.js';

/** The directory of a project's state: `<project directory>/.flotilla`. */
export function stateDirectory(stack: Stack): string {
  return join(stack.workingDir, '.flotilla');
}

/**
 * A project's state store, opened on first use: commands that end up recording nothing never pay
 * for loading SQLite. `close()` is a no-op when it was never opened.
 */
export function lazyProjectStore(stack: Stack): { store: () => Promise<StateStore>; recordBuild: (record: BuildRecord) => Promise<void>; close: () => void } {
  let opened: StateStore | undefined;
  const store = async () => {
    if (!opened) {
      const { openStateStore } = await import('./sqlite-store.js');
      opened = openStateStore(stateDirectory(stack));
    }
    return opened;
  };
  return {
    store,
    recordBuild: async (record) => (await store()).recordBuild(record),
    close: () => opened?.close(),
  };
}
