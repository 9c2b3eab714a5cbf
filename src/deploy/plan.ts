/**
 * A plan is data: what `up`/`down` will do, computed by a pure planner from the desired stack and
 * the observed state, printed by `--dry-run`, and carried out by the executor, which makes no
 * decisions of its own.
 */
import type { DependencyCondition } from '../spec/types.js';

export type OperationType =
  | 'pull-image'
  | 'build-image'
  | 'create-network'
  | 'create-volume'
  | 'create-container'
  | 'recreate-container'
  | 'start-container'
  | 'restart-container'
  | 'stop-container'
  | 'remove-container'
  | 'remove-network'
  | 'remove-volume';

/** One step of a plan. `cause` says why, in words a user reads in `--dry-run`. */
export interface Operation {
  type: OperationType;
  /** What it acts on, as printed: `container shop-db-1`, `network shop_default`, `image postgres:15`. */
  resource: string;
  cause: string;
  /** The service it belongs to, for container and image operations. */
  service?: string;
  replica?: number;
  /** Engine name of the object (container, network, volume) or the image reference. */
  name: string;
  /** Id of the existing container it replaces, restarts or removes. */
  containerId?: string;
  /** For container creation: the image reference to run (the build version tag for built services). */
  image?: string;
  /**
   * Set on the operations of the mesh: `mesh-proxy` for a proxy container (planned in the steps of
   * `service`, the first of its services, but a replica of none), `mesh-image` for the build of
   * the proxy image.
   */
  role?: 'mesh-proxy' | 'mesh-image';
  /** For a mesh proxy's creation: each service it fronts → the image that service runs, whose EXPOSE ports and version the proxy's config takes. */
  meshServices?: Record<string, string>;
}

/** A dependency a service's containers wait for before they are created or started. */
export interface Wait {
  service: string;
  condition: DependencyCondition;
  /** The proxy container that fronts the service, when it is meshed: its steps (if any) come first. */
  proxy?: string;
}

/** The steps of one service, run in order once its waits are met. */
export interface ServiceSteps {
  service: string;
  waitFor: Wait[];
  operations: Operation[];
}

/** The whole plan. Phases run in order; within a phase, operations run in parallel. */
export interface Plan {
  project: string;
  /** Images, networks and volumes, all before any container. */
  prepare: Operation[];
  /** Per service, in dependency order; services start in parallel as their waits are met. */
  services: ServiceSteps[];
  /** Removals, in phases run one after another (containers in reverse dependency order, then networks and volumes). */
  cleanup: Operation[][];
  /** Containers of services no longer in the stack, reported when not removed. */
  orphans: string[];
}

/** All operations of a plan, in the order they are printed. */
export function operationsOf(plan: Plan): Operation[] {
  return [...plan.prepare, ...plan.services.flatMap((steps) => steps.operations), ...plan.cleanup.flat()];
}

/** True when carrying out the plan would change nothing. */
export function isEmptyPlan(plan: Plan): boolean {
  return operationsOf(plan).length === 0;
}
