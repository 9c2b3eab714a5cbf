/** The Compose loader: Compose files in, a resolved Stack out (and back to Compose YAML for `flotilla config`). */
export type { LoadOptions } from './load-options.js';
export { loadStack } from './load-stack.js';
export { renderStack } from './render-stack.js';
export { parseDuration, tryParseDuration } from './duration.js';
export type * from './types.js';
export { loadExperimentFiles, type ExperimentFileOptions, type ExperimentFromFile } from './experiments-file.js';
export { meshSettingsOf, meshedServices } from './mesh.js';
