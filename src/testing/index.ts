/** The test domain's public surface: the contract types, matrix expansion, run versions, the pure planner and JUnit. */
export type * from './types.js';
export * from './matrix.js';
export * from './run-version.js';
export * from './plan.js';
export * from './plan-text.js';
export * from './junit.js';
