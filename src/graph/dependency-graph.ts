/**
 * Dependency ordering for services and actions: cycle detection, topological order (dependencies
 * first, ties by name) and transitive closure. The implementation sits in spec/ because the Compose
 * loader, one layer below, needs it to report dependency cycles (core ← spec ← graph).
 */
export { findCycle, topologicalOrder, withDependencies } from '../spec/dependency-order.js';
