/** The build domain's public surface: context listing and hashing, Dockerfile reading, git state, versions and labels. */
export * from './types.js';
export * from './image-labels.js';
export * from './context-files.js';
export * from './context-hash.js';
export * from './dockerfile.js';
export * from './git.js';
export * from './version.js';
export * from './oci-labels.js';
