/**
 * The build version: one hash of everything that decides an image (context files, Dockerfile,
 * args, target, labels, and the base images as resolved ids), so an unchanged build is skipped
 * and a changed one never reuses an old image.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stableStringify } from '../core/stable-json.js';
import { listContext } from './context-files.js';
import { hashContext } from './context-hash.js';
import { baseImageReferences } from './dockerfile.js';
import type { BaseImage, BuildVersion } from './types.js';

/** What `buildVersion` hashes. */
export interface BuildVersionInputs {
  contextDigest: string;
  dockerfileContent: string;
  args: Record<string, string>;
  target?: string | undefined;
  /** Labels the user asked for (`build.labels`): they are part of the image. Flotilla's own are not. */
  labels?: Record<string, string> | undefined;
  baseImages: BaseImage[];
}

/** Bumped when the hashed form changes, so no old version can collide with a new one. */
const SCHEME = 'flotilla.build-version/1';

/**
 * Hex sha256 of the canonical JSON of `inputs`. A base image counts by its id (the digest when
 * no id is known), never by its tag: a moved tag gives a new version. A base image that is not
 * present counts as `{ reference, unresolved: true }`; such a version is not pinned (see
 * `unpinnedBaseImages`) and must not be used to skip a build.
 */
export function buildVersion(inputs: BuildVersionInputs): string {
  const bases = new Map<string, { reference: string; image?: string; unresolved?: true }>();
  for (const base of inputs.baseImages) {
    const image = base.id ?? base.digest;
    bases.set(base.reference, image ? { reference: base.reference, image } : { reference: base.reference, unresolved: true });
  }
  const canonical = stableStringify({
    scheme: SCHEME,
    context: inputs.contextDigest,
    dockerfile: sha256(inputs.dockerfileContent),
    args: inputs.args,
    // An empty target and no target build the same image.
    target: inputs.target || undefined,
    // Left out when empty, so builds without labels keep their version.
    labels: inputs.labels && Object.keys(inputs.labels).length > 0 ? inputs.labels : undefined,
    baseImages: [...bases.keys()].sort().map((reference) => bases.get(reference)),
  });
  return sha256(canonical);
}

/**
 * The version of the same inputs read from a dirty tree. A build from uncommitted changes is not
 * a release: once the changes are committed, the clean build gets a version of its own, and so
 * an image labelled with the commit (and tag) it really came from, instead of being skipped as
 * "the same content" and keeping the dirty build's labels.
 */
export function dirtyVersion(version: string): string {
  return sha256(`dirty:${version}`);
}

/** References of the base images a version could not pin to an id: pull them and compute again before trusting it. */
export function unpinnedBaseImages(version: Pick<BuildVersion, 'baseImages'>): string[] {
  return version.baseImages.filter((base) => base.id === undefined && base.digest === undefined).map((base) => base.reference);
}

/** A build version with what the build itself needs from the same reading of the inputs. */
export interface ComputedBuildVersion extends BuildVersion {
  /** Set when the Dockerfile lies outside the context; pass it on in the BuildRequest. */
  dockerfileOutside?: { name: string; path: string };
}

/** Finds an image on the engine; undefined when it is not present. */
export type ImageResolver = (reference: string) => Promise<{ id: string; digest?: string } | undefined>;

/** The build's inputs, as in the Compose file's `build:` (context absolute or relative to the working directory). */
export interface BuildInputs {
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  target?: string | undefined;
  labels?: Record<string, string> | undefined;
}

/** Lists and hashes the context, reads the Dockerfile's base images and resolves them (in parallel), then hashes it all. */
export async function computeBuildVersion(build: BuildInputs, resolveImage: ImageResolver): Promise<ComputedBuildVersion> {
  const contextDir = resolve(build.context);
  const listing = await listContext(contextDir, build.dockerfile);
  const dockerfilePath = listing.dockerfileOutside?.path ?? join(contextDir, listing.dockerfile);
  const hashing = hashContext(contextDir, listing.entries, listing.dockerfileOutside);
  // Hashing runs while the Dockerfile is read and its base images are looked up.
  hashing.catch(() => undefined);
  const dockerfileContent = await readFile(dockerfilePath, 'utf8');
  const { references, finalBase } = baseImageReferences(dockerfileContent, build.args, build.target || undefined, dockerfilePath);
  const [contextDigest, baseImages] = await Promise.all([
    hashing,
    Promise.all(
      references.map(async (reference): Promise<BaseImage> => {
        const image = await resolveImage(reference);
        return { reference, ...(image ? { id: image.id } : {}), ...(image?.digest ? { digest: image.digest } : {}) };
      }),
    ),
  ]);
  const version = buildVersion({ contextDigest, dockerfileContent, args: build.args, target: build.target, labels: build.labels, baseImages });
  return {
    version,
    entries: listing.entries,
    dockerfile: listing.dockerfile,
    contextDigest,
    baseImages,
    ...(finalBase !== undefined ? { finalBase } : {}),
    ...(listing.dockerfileOutside ? { dockerfileOutside: listing.dockerfileOutside } : {}),
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
