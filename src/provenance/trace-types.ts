/**
 * What `trace` finds: the chain from a service or container back to the commit its image was
 * built from, and the way back from a commit to the containers that run it. Every field is
 * present (null when unknown) so `--output json` keeps one shape, and every part of the chain says
 * where it was read from.
 */
import type { ContainerState } from '../runtime/driver.js';

/**
 * Where a part of the chain was read: `engine` (what the Docker Engine reports now), `stack`
 * (the Compose file), `store` (the provenance record this project's state database keeps of
 * builds made here), `labels` (the image's own labels: all there is for an image built elsewhere).
 */
export type Origin = 'engine' | 'stack' | 'store' | 'labels';

/** A container of the chain. */
export interface TracedContainer {
  name: string;
  id: string;
  state: ContainerState;
  /** Empty for a container Flotilla did not create. */
  project: string;
  service: string;
  imageId: string;
}

/** The build that made an image. */
export interface TracedBuild {
  from: 'store' | 'labels';
  /** The build version (content hash of the build inputs). */
  version: string | null;
  /** ISO 8601. */
  builtAt: string | null;
  project: string | null;
  service: string | null;
  /** The tags the build gave the image (recorded in the store only). */
  tags: string[];
}

/** The git state the image was built from. */
export interface TracedGit {
  from: 'store' | 'labels';
  commit: string;
  /** The tag that pointed at the commit when the image was built. */
  tag: string | null;
  describe: string | null;
  /** Uncommitted changes in the build context; null when the labels do not say. */
  dirty: boolean | null;
  /** The repository URL (credentials removed). */
  source: string | null;
}

/** Where the build's tag points now, in the project's git repository. */
export interface TagCheck {
  tag: string;
  /** `moved`: it points to another commit now; `missing`: not found in `dir`; `unchecked`: no repository to look in. */
  status: 'unchanged' | 'moved' | 'missing' | 'unchecked';
  /** The commit the tag points to now, when found. */
  now: string | null;
  /** The directory the tag was looked up in. */
  dir: string | null;
}

/** A base image of the build's final stage. */
export interface TracedBase {
  from: 'store' | 'labels';
  reference: string;
  id: string | null;
  digest: string | null;
}

/** One image of the chain and its provenance. */
export interface TracedImage {
  id: string;
  /** False when the engine no longer has the image (the record, if any, still tells its story). */
  present: boolean;
  /** The reference the container or service names, when known. */
  reference: string | null;
  /** `name@sha256:…` digests (the engine's, else the record's); empty for a local build never pushed. */
  digests: string[];
  /** Null when neither the store nor the labels know the build (an image Flotilla did not build). */
  build: TracedBuild | null;
  git: TracedGit | null;
  /** Why `git` is null, in words. */
  noGit: string | null;
  /** Null when the build had no tag. */
  tag: TagCheck | null;
  baseImages: TracedBase[];
  /** Test suites that ran on exactly this image (from the store), the latest result of each. */
  tests: TracedTest[];
  /** Caveats about what was found, in words. */
  notes: string[];
}

/** A test run on the image, as `flotilla test` recorded it. */
export interface TracedTest {
  run: string;
  status: 'passed' | 'failed';
  finishedAt: string;
}

/** The chain `trace TARGET` walks. */
export interface TraceResult {
  target: string;
  /** What the target was taken for. */
  matched: 'container' | 'service' | 'image';
  project: string | null;
  service: string | null;
  containers: TracedContainer[];
  images: TracedImage[];
}

/** A running container whose image was built from the commit asked about. */
export interface CommitMatch {
  container: string;
  id: string;
  project: string;
  service: string;
  /** The image reference the service names, else the image id. */
  image: string;
  imageId: string;
  commit: string | null;
  tag: string | null;
  builtAt: string | null;
  /** Whether the match came from this project's build records or from the image's revision label. */
  from: 'store' | 'labels';
}

/** What `trace --commit REF` finds. */
export interface CommitTraceResult {
  ref: string;
  /** The commit `ref` names in the project's repository now, when it does. */
  resolved: string | null;
  containers: CommitMatch[];
}
