/** The chain of custody: the project's state store and `trace`. */
export type { StateStore } from './state-store.js';
export { openStateStore, openStateStoreIfExists, STATE_FILE } from './sqlite-store.js';
export { lazyProjectStore, stateDirectory } from './project-store.js';
export { assertRedacted } from './redaction.js';
export { trace, type TraceDeps } from './trace.js';
export { traceCommit } from './trace-commit.js';
export { traceText } from './trace-text.js';
export { AmbiguousTargetError, TargetNotFoundError } from './trace-target.js';
export type * from './trace-types.js';
