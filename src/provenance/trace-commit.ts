/**
 * `trace --commit REF`: from a commit (sha or prefix) or a tag to the running containers, of any
 * Flotilla project on the engine, whose image was built from it. An image matches by this
 * project's build records (by commit, or by the tag at build time, even if it has moved since) or
 * by its own revision label (images built elsewhere, or by another project).
 */
import { ImageLabel } from '../build/image-labels.js';
import type { BuildRecord } from '../build/types.js';
import { FlotillaError } from '../core/errors.js';
import type { ImageInfo, ObservedContainer } from '../runtime/driver.js';
import { Label } from '../runtime/labels.js';
import { tagFromLabels } from './image-provenance.js';
import { gitDir, type TraceDeps } from './trace.js';
import type { CommitMatch, CommitTraceResult } from './trace-types.js';

/** What makes an image match, and what the match says about its build. */
type ImageMatch = Pick<CommitMatch, 'commit' | 'tag' | 'builtAt' | 'from'>;

/** The running containers whose image was built from `ref` (a commit, a commit prefix of 4+ hex digits, or a tag). */
export async function traceCommit(ref: string, deps: TraceDeps): Promise<CommitTraceResult> {
  const dir = gitDir(deps);
  const prefix = /^[0-9a-f]{4,64}$/i.test(ref) ? ref.toLowerCase() : null;
  const [resolved, running] = await Promise.all([
    dir === undefined ? undefined : deps.git.resolveRef(dir, ref),
    deps.driver.allProjectContainers().then((all) => all.filter((container) => container.state === 'running')),
  ]);
  const records = recordsFor(deps, ref, prefix, resolved);
  const imageIds = [...new Set(running.map((container) => container.imageId))];
  const infos = await Promise.all(imageIds.map((id) => deps.driver.inspectImage(id)));

  const matches = new Map<string, ImageMatch>();
  imageIds.forEach((id, index) => {
    const match = matchOf(records.get(id), infos[index], { ref, prefix, resolved });
    if (match) matches.set(id, match);
  });
  const containers = running
    .filter((container) => matches.has(container.imageId))
    .map((container) => row(container, matches.get(container.imageId) as ImageMatch))
    .sort((a, b) => a.project.localeCompare(b.project) || a.service.localeCompare(b.service) || a.container.localeCompare(b.container));

  if (containers.length === 0 && prefix === null && resolved === undefined && records.size === 0) {
    throw new FlotillaError('TRACE_UNKNOWN_REF', `"${ref}" is not a commit, nor a tag or branch ${dir ? `in the repository at ${dir}` : 'known here'}, nor a tag this project built from; and no running image says it was built from it`, {
      hint: 'Give a commit sha (4 hex digits at least) or a tag; `git fetch --tags` if the tag was made elsewhere.',
    });
  }
  return { ref, resolved: resolved ?? null, containers };
}

/** This project's build records for the commit prefix, the tag, and the commit the ref names now, by image id. */
function recordsFor(deps: TraceDeps, ref: string, prefix: string | null, resolved: string | undefined): Map<string, BuildRecord> {
  const records = new Map<string, BuildRecord>();
  const store = deps.store;
  if (!store) return records;
  const found = [...(prefix ? store.buildsByCommit(prefix) : []), ...store.buildsByTag(ref), ...(resolved ? store.buildsByCommit(resolved) : [])];
  for (const record of found) if (!records.has(record.imageId)) records.set(record.imageId, record);
  return records;
}

/** Whether an image matches: by its record first (the labels say the same for a build made here), else by its labels. */
function matchOf(record: BuildRecord | undefined, info: ImageInfo | undefined, wanted: { ref: string; prefix: string | null; resolved: string | undefined }): ImageMatch | undefined {
  if (record) return { from: 'store', commit: record.git?.commit ?? null, tag: record.git?.tag ?? null, builtAt: record.createdAt };
  const labels = info?.labels ?? {};
  const revision = labels[ImageLabel.revision];
  if (!revision) return undefined;
  const tag = tagFromLabels(labels, revision);
  const matches = (wanted.prefix !== null && revision.startsWith(wanted.prefix)) || revision === wanted.resolved || tag === wanted.ref;
  return matches ? { from: 'labels', commit: revision, tag, builtAt: labels[ImageLabel.created] ?? null } : undefined;
}

function row(container: ObservedContainer, match: ImageMatch): CommitMatch {
  return {
    container: container.name,
    id: container.id,
    project: container.project,
    service: container.service,
    image: container.labels[Label.image] ?? container.imageId,
    imageId: container.imageId,
    commit: match.commit,
    tag: match.tag,
    builtAt: match.builtAt,
    from: match.from,
  };
}
