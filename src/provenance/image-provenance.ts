/**
 * One image's provenance, from the best source there is: this project's build record when the
 * image was built here, else the labels every Flotilla build puts on the image (all there is on
 * another machine). Pure: the caller fetches the image and the record.
 */
import { ImageLabel } from '../build/image-labels.js';
import type { BuildRecord } from '../build/types.js';
import type { ImageInfo } from '../runtime/driver.js';
import type { TracedBase, TracedBuild, TracedGit, TracedImage } from './trace-types.js';

/** What is known of an image: the engine's view (undefined when gone) and the store's record. */
export interface ImageSources {
  id: string;
  info: ImageInfo | undefined;
  record: BuildRecord | undefined;
  /** The reference the container or service names. */
  reference: string | null;
}

/** The image's provenance, without the tag check (which needs git). */
export function imageProvenance(sources: ImageSources): Omit<TracedImage, 'tag' | 'tests'> {
  const { id, info, record, reference } = sources;
  const base = { id, present: info !== undefined, reference, digests: info?.repoDigests.length ? info.repoDigests : (record?.repoDigests ?? []) };
  if (record) return { ...base, ...fromRecord(record) };
  if (info) return { ...base, ...fromLabels(info.labels) };
  return {
    ...base,
    build: null,
    git: null,
    noGit: 'no git information: the image is gone from the engine and this project has no record of its build',
    baseImages: [],
    notes: [],
  };
}

type Provenance = Pick<TracedImage, 'build' | 'git' | 'noGit' | 'baseImages' | 'notes'>;

function fromRecord(record: BuildRecord): Provenance {
  const git = record.git;
  return {
    build: { from: 'store', version: record.version, builtAt: record.createdAt, project: record.project, service: record.service, tags: record.tags },
    git: git
      ? { from: 'store', commit: git.commit, tag: git.tag ?? null, describe: git.describe, dirty: git.dirty, source: git.source ?? null }
      : null,
    noGit: git ? null : 'no git information: the build context was not in a git repository when it was built',
    baseImages: record.baseImages.map((image) => ({ from: 'store', reference: image.reference, id: image.id ?? null, digest: image.digest ?? null })),
    notes: [],
  };
}

function fromLabels(labels: Record<string, string>): Provenance {
  const label = (key: string): string | null => (labels[key] ? (labels[key] ?? null) : null);
  const byFlotilla = label(ImageLabel.buildVersion) !== null;
  const build: TracedBuild | null = byFlotilla
    ? { from: 'labels', version: label(ImageLabel.buildVersion), builtAt: label(ImageLabel.created), project: label(ImageLabel.project), service: label(ImageLabel.service), tags: [] }
    : null;
  const commit = label(ImageLabel.revision);
  const git: TracedGit | null = commit
    ? {
        from: 'labels',
        commit,
        tag: tagFromLabels(labels, commit),
        describe: label(ImageLabel.version),
        dirty: label(ImageLabel.dirty) === null ? null : label(ImageLabel.dirty) === 'true',
        source: label(ImageLabel.source),
      }
    : null;
  const notes: string[] = [];
  // Labels are inherited from the base image: without Flotilla's own label, an OCI revision may be the base's.
  if (git && !byFlotilla) notes.push('the image has OCI labels but no Flotilla build label: they may have been set by another tool, or inherited from its base image');
  return {
    build,
    git,
    noGit: git
      ? null
      : byFlotilla
        ? `no git information: the image's revision label (${ImageLabel.revision}) is empty, so it was built outside a git repository`
        : `no git information: the image has no revision label (${ImageLabel.revision})`,
    baseImages: baseFromLabels(label(ImageLabel.baseImage), label(ImageLabel.baseDigest)),
    notes,
  };
}

/** The base image label holds the reference; the base digest label its digest (`name@sha256:…`) or its id. */
function baseFromLabels(reference: string | null, digestOrId: string | null): TracedBase[] {
  if (reference === null) return [];
  const isDigest = digestOrId?.includes('@') ?? false;
  return [{ from: 'labels', reference, id: isDigest ? null : digestOrId, digest: isDigest ? digestOrId : null }];
}

/**
 * The tag a build from labels was made at. The version label holds `git describe --tags --always`:
 * an exact tag, or `<tag>-<distance>-g<sha>` / a short sha when HEAD had no tag of its own.
 */
export function tagFromLabels(labels: Record<string, string>, commit: string): string | null {
  const described = labels[ImageLabel.version];
  if (!described) return null;
  if (/-\d+-g[0-9a-f]{4,}(-dirty)?$/.test(described)) return null;
  if (/^[0-9a-f]{4,40}(-dirty)?$/.test(described) && commit.startsWith(described.replace(/-dirty$/, ''))) return null;
  return described.replace(/-dirty$/, '');
}
