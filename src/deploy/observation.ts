import type { ObservedState } from '../runtime/driver.js';

/** A host port something holds right now. */
export interface HostPortUse {
  hostIp: string;
  port: number;
  protocol: string;
  /** Who holds it: a container name, or `a process on this host`. */
  holder: string;
  /** Set when a container of any project holds it. */
  containerId?: string;
}

/** Everything the planner needs to know about the world, gathered before planning. */
export interface Observation {
  state: ObservedState;
  /** Image id per image reference the stack names; undefined when not present locally. */
  images: Record<string, string | undefined>;
  /** Engine names of external networks and volumes that exist. */
  externalNetworks: string[];
  externalVolumes: string[];
  /** Fixed host ports the selected services publish that are held now. */
  portsInUse: HostPortUse[];
}
