/**
 * Builds traced to git: the types shared by the build domain, the provenance store and the
 * commands. An image's identity is its *build version*: a content hash of everything that decides
 * what the image contains. Same inputs, same version, and the build is skipped.
 */

/** A base image named by a FROM line, as resolved on the engine when the version was computed. */
export interface BaseImage {
  /** As written after FROM, with build args substituted (`node:20-bookworm-slim`). */
  reference: string;
  /** Image id on the engine (`sha256:…`); absent when the image is not present (it will be pulled by the build). */
  id?: string;
  /** `name@sha256:…` when the image came from a registry. */
  digest?: string;
}

/** What decides an image, and its hash. */
export interface BuildVersion {
  /** Hex sha256 of every input below (and of the files' contents). */
  version: string;
  /** Paths in the context that are sent to the engine (after .dockerignore), relative and `/`-separated, sorted. */
  entries: string[];
  /** Name of the Dockerfile inside the context as sent. */
  dockerfile: string;
  /** Hex sha256 of the context files (paths, modes, contents). */
  contextDigest: string;
  baseImages: BaseImage[];
  /** The external image at the root of the final (or target) stage: what the image is "based on". */
  finalBase?: string;
}

/** The git state of the directory a service was built from. `undefined` where there is no git repository. */
export interface GitInfo {
  /** Full commit sha of HEAD. */
  commit: string;
  /** The tag pointing exactly at HEAD, when there is one. */
  tag?: string;
  /** `git describe --tags --always`: the tag, or the nearest tag plus distance, or the short sha. */
  describe: string;
  /** Uncommitted changes in the build context (tracked or untracked, not ignored). */
  dirty: boolean;
  /** The `origin` remote URL with any credentials removed. */
  source?: string;
}

/** A finished build, as recorded in the state store and (in part) in the image's labels. */
export interface BuildRecord {
  imageId: string;
  /** `name@sha256:…` once pushed; empty for local builds. */
  repoDigests: string[];
  project: string;
  service: string;
  /** The tags given to the image: the service's image name and the version tag. */
  tags: string[];
  version: string;
  git: GitInfo | undefined;
  baseImages: BaseImage[];
  /** ISO 8601. */
  createdAt: string;
  /** The in-toto statement with its SLSA provenance predicate. */
  statement: InTotoStatement;
}

/** An in-toto Statement v1 (https://in-toto.io/Statement/v1) carrying a SLSA v1 provenance predicate. */
export interface InTotoStatement {
  _type: 'https://in-toto.io/Statement/v1';
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: 'https://slsa.dev/provenance/v1';
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: Record<string, unknown>;
      internalParameters: Record<string, unknown>;
      resolvedDependencies: { uri: string; digest: Record<string, string>; name?: string }[];
    };
    runDetails: {
      builder: { id: string; version?: Record<string, string> };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
    };
  };
}
