/** Chaos experiments: hypothesis, method under load, rollback and verdict. */
export type { ActionRecord, ChaosEvent, ExperimentReport, LoadStats, ProbeResult, Verdict } from './types.js';
export { systemClock, type Clock } from './clock.js';
export { createContainerActions, type ContainerActions } from './containers.js';
export { sendHttp } from './http.js';
export {
  createMeshClient,
  DEFAULT_MESH_API,
  faultClient,
  meshApiUrl,
  meshClientFromEnv,
  type FaultClient,
  type MeshClient,
  type MeshProxyJson,
  type MeshToxicJson,
  type MeshToxicRequest,
} from './mesh-client.js';
export { planSteps, planText } from './plan.js';
export { createProbeRunner, type CollectorApi, type ProbeRunner } from './probes.js';
export { progressLine, renderReportText } from './report-text.js';
export { runExperiment, type RunnerDeps, type RunOptions } from './runner.js';
export { decideVerdict, exitCodeFor } from './verdict.js';
