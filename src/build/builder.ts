/**
 * Builds of a stack's services: first every service's build version (a content hash of its
 * inputs) and whether an image with that version exists, then the builds that are needed, each
 * labelled with its git origin and recorded with its provenance.
 */
import { FlotillaError } from '../core/errors.js';
import type { Driver } from '../runtime/driver.js';
import type { BuildSpec, ServiceSpec, Stack } from '../spec/types.js';
import { gitInfoForContexts } from './git.js';
import { versionTag } from './image-labels.js';
import { imageLabels } from './oci-labels.js';
import { provenanceStatement } from './statement.js';
import type { BuildRecord, GitInfo } from './types.js';
import { computeBuildVersion, dirtyVersion, unpinnedBaseImages, type ComputedBuildVersion } from './version.js';

/** A service's build at its current inputs. */
export interface ResolvedBuild {
  service: string;
  /** The build settings: the service's own, or a variant's (another target, more args) for a test run. */
  spec: BuildSpec;
  /** A variant is tagged by its version only: it never takes the service's image name. */
  variant: boolean;
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
  const wanted: BuildWanted[] = services.flatMap((name) => {
    const service = stack.services[name];
    return service?.build ? [{ service, spec: service.build, variant: false }] : [];
  });
  return resolveBuildSpecs(driver, wanted);
}

/** A build to resolve: a service with the settings to build it with. */
export interface BuildWanted {
  service: ServiceSpec;
  spec: BuildSpec;
  variant: boolean;
}

/** Versions of any builds, services' own or variants, with git read once per repository and each base image looked up once. */
export async function resolveBuildSpecs(driver: Driver, wanted: readonly BuildWanted[]): Promise<ResolvedBuild[]> {
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
    wanted.map(({ spec: { context, dockerfile, args, target, labels } }) =>
      computeBuildVersion({ context, dockerfile, args, labels, ...(target ? { target } : {}) }, resolveImage),
    ),
  );
  const gits = await gitInfoForContexts(wanted.map(({ spec }, index) => ({ context: spec.context, sent: new Set(versions[index]?.entries) })));
  return Promise.all(
    wanted.map(async ({ service, spec, variant }, index) => {
      const computed = versions[index] as ComputedBuildVersion;
      const git = gits[index];
      const version = git?.dirty ? { ...computed, version: dirtyVersion(computed.version) } : computed;
      const tag = versionTag(service.image, version.version);
      const existing = unpinnedBaseImages(version).length === 0 ? await driver.inspectImage(tag) : undefined;
      return { service: service.name, spec, variant, version, git, tag, ...(existing ? { imageId: existing.id } : {}) };
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
  const build = resolved.spec;
  if (!service) throw new FlotillaError('INTERNAL', `service ${resolved.service} is not in the stack`);
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
  const tags = resolved.variant ? [resolved.tag] : [service.image, resolved.tag];
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
