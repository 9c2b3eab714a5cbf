export { findCycle, topologicalOrder, withDependencies } from './dependency-graph.js';
