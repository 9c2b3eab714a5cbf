/**
 * Labels every image Flotilla builds carries, always overriding what the base image set: the OCI
 * annotations (https://github.com/opencontainers/image-spec/blob/main/annotations.md) that
 * standard tools read, and Flotilla's own. They let `trace` work from the image alone, on any
 * machine, when the state store has no record of the build.
 */
export const ImageLabel = {
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
  version: 'org.opencontainers.image.version',
  created: 'org.opencontainers.image.created',
  /** The build version (content hash of the build inputs). */
  buildVersion: 'dev.flotilla.build.version',
  /** `true` when the context had uncommitted changes. */
  dirty: 'dev.flotilla.build.dirty',
  /** The base image of the final stage, as written in the Dockerfile, and its id or digest. */
  baseImage: 'dev.flotilla.build.base-image',
  baseDigest: 'dev.flotilla.build.base-digest',
  project: 'dev.flotilla.build.project',
  service: 'dev.flotilla.build.service',
} as const;

/** The tag that names a build version: `<repository>:fl-<first 20 hex of the version>`. */
export function versionTag(imageReference: string, version: string): string {
  return `${repositoryOf(imageReference)}:fl-${version.slice(0, 20)}`;
}

/** `registry:5000/team/api:1.2@sha256:…` → `registry:5000/team/api`. */
export function repositoryOf(imageReference: string): string {
  const withoutDigest = imageReference.split('@')[0] ?? imageReference;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(0, lastColon) : withoutDigest;
}
