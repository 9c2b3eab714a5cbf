/**
 * Builds of a stack's services: first every service's build version (a content hash of its
 * inputs) and whether an image with that version exists, then the builds that are needed, each
 * labelled with its git origin and recorded with its provenance.
 */
import { FlotillaError } from '../core/errors.js';
import type { Driver } from '../runtime/driver.js';
import type { ServiceSpec, Stack } from '../spec/types.js';
import { gitInfoForContexts } from './git.js';
import { versionTag } from './image-labels.js';
import { imageLabels } from './oci-labels.js';
import { provenanceStatement } from './statement.js';
import type { BuildRecord, GitInfo } from './types.js';
import { computeBuildVersion, dirtyVersion, unpinnedBaseImages, type ComputedBuildVersion } from './version.js';

/** A service's build at its current inputs. */
export interface ResolvedBuild {
  service: string;
  version: ComputedBuildVersion;
  /** Git state of the context; only the files that are sent count towards dirty. */
  git: GitInfo | undefined;
  /** `<repository>:fl-<version>`. */
  tag: string;
  /**
   * Set when an image with this version exists already. Never set while a base image is not
   * present locally: such a version names a tag, not content, and must be built (which pulls it).
   */
  imageId?: string;
}

/** Versions of the named services' builds (those with a `build:` section) and their git state, computed in parallel. */
export async function resolveBuilds(driver: Driver, stack: Stack, services: readonly string[]): Promise<ResolvedBuild[]> {
  const built = services.map((name) => stack.services[name]).filter((service): service is ServiceSpec & { build: NonNullable<ServiceSpec['build']> } => !!service?.build);
  // Services usually share base images: look each one up once.
  const lookups = new Map<string, Promise<{ id: string; digest?: string } | undefined>>();
  const resolveImage = (reference: string) => {
    let lookup = lookups.get(reference);
    if (!lookup) {
      lookup = driver.inspectImage(reference).then((image) => image && { id: image.id, ...(image.repoDigests[0] ? { digest: image.repoDigests[0] } : {}) });
      lookups.set(reference, lookup);
    }
    return lookup;
  };
  const versions = await Promise.all(
    built.map(({ build: { context, dockerfile, args, target, labels } }) =>
      computeBuildVersion({ context, dockerfile, args, labels, ...(target ? { target } : {}) }, resolveImage),
    ),
  );
  const gits = await gitInfoForContexts(built.map((service, index) => ({ context: service.build.context, sent: new Set(versions[index]?.entries) })));
  return Promise.all(
    built.map(async (service, index) => {
      const computed = versions[index] as ComputedBuildVersion;
      const git = gits[index];
      const version = git?.dirty ? { ...computed, version: dirtyVersion(computed.version) } : computed;
      const tag = versionTag(service.image, version.version);
      const existing = unpinnedBaseImages(version).length === 0 ? await driver.inspectImage(tag) : undefined;
      return { service: service.name, version, git, tag, ...(existing ? { imageId: existing.id } : {}) };
    }),
  );
}

export interface BuildContext {
  driver: Driver;
  stack: Stack;
  extraLabels: Record<string, string>;
  /** Where the record of a finished build goes (the state store). */
  record: (record: BuildRecord) => void | Promise<void>;
  onProgress: (line: string) => void;
}

/** Builds one service at its resolved version; the image carries OCI and Flotilla labels, and its provenance is recorded. */
export async function buildService(resolved: ResolvedBuild, context: BuildContext): Promise<BuildRecord> {
  const { driver, stack } = context;
  const service = stack.services[resolved.service];
  const build = service?.build;
  if (!service || !build) throw new FlotillaError('INTERNAL', `service ${resolved.service} has no build section`);
  const startedOn = new Date();
  const { version, git } = resolved;
  // Flotilla's labels go last: they must override whatever the base image or the user set for the same keys.
  const labels = {
    ...build.labels,
    ...context.extraLabels,
    ...imageLabels({
      git,
      version: version.version,
      baseImages: version.baseImages,
      ...(version.finalBase ? { finalBase: version.finalBase } : {}),
      project: stack.name,
      service: service.name,
      created: startedOn,
    }),
  };
  const tags = [service.image, resolved.tag];
  const image = await driver.buildImage(
    {
      context: build.context,
      dockerfile: version.dockerfile,
      entries: version.entries,
      ...(version.dockerfileOutside ? { dockerfileOutside: version.dockerfileOutside } : {}),
      args: build.args,
      ...(build.target ? { target: build.target } : {}),
      labels,
      tags,
    },
    context.onProgress,
  );
  const record: BuildRecord = {
    imageId: image.id,
    repoDigests: image.repoDigests,
    project: stack.name,
    service: service.name,
    tags,
    version: version.version,
    git,
    baseImages: version.baseImages,
    createdAt: startedOn.toISOString(),
    statement: provenanceStatement({ project: stack.name, service: service.name, imageId: image.id, tags, build, version, git, startedOn, finishedOn: new Date() }),
  };
  await context.record(record);
  return record;
}
