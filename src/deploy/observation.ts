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

/** The image a service with a build section should run: named by its build version. */
export interface BuildTarget {
  /** `<repository>:fl-<version>`. */
  tag: string;
  /** Set when an image with that tag exists: the build can be skipped. */
  imageId?: string;
}

/** Everything the planner needs to know about the world, gathered before planning. */
export interface Observation {
  state: ObservedState;
  /** Image id per image reference the stack names; undefined when not present locally. */
  images: Record<string, string | undefined>;
  /** For each selected service with a `build:` section: the tag of its current build version, and the image with that tag if built already. */
  builds: Record<string, BuildTarget>;
  /** Engine names of external networks and volumes that exist. */
  externalNetworks: string[];
  externalVolumes: string[];
  /** Fixed host ports the selected services publish that are held now. */
  portsInUse: HostPortUse[];
  /** Set when a selected service is meshed. */
  mesh?: MeshObservation;
}

/** What the planner needs to lay out the mesh; set when a selected service is meshed. */
export interface MeshObservation {
  /** The proxy image: its tag, and its id when the image exists. */
  image: { tag: string; imageId?: string };
  /**
   * Per meshed service, its image as it will run: the id and EXPOSE ports, and its version label.
   * Absent for a service whose image is not there yet (to be built or pulled): its ports are known
   * only once it is.
   */
  services: Record<string, { imageId: string; exposedPorts: string[]; version: string }>;
}
