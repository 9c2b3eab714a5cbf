/**
 * `trace`: from a container, a service or an image back to the commit its image was built from,
 * and from a commit to the containers that run it (trace-commit.ts). It only reads: the engine
 * through the driver, the build records through the store, the repository through `resolveRef`.
 */
import { ImageLabel } from '../build/image-labels.js';
import type { Driver, ObservedContainer } from '../runtime/driver.js';
import { Label } from '../runtime/labels.js';
import type { Stack } from '../spec/types.js';
import { imageProvenance } from './image-provenance.js';
import type { StateStore } from './state-store.js';
import { resolveTarget, type ResolvedTarget } from './trace-target.js';
import type { TagCheck, TracedContainer, TracedGit, TracedImage, TraceResult } from './trace-types.js';

/** What `trace` reads from. */
export interface TraceDeps {
  driver: Driver;
  /** This project's build records; undefined outside a project (labels are all there is then). */
  store: StateStore | undefined;
  /** The current stack; undefined when there is no Compose file (no services to match). */
  stack: Stack | undefined;
  git: {
    /** The commit `ref` points to now in the repository at `dir`; undefined when unknown there. */
    resolveRef: (dir: string, ref: string) => Promise<string | undefined>;
    /** Where tags are looked up; default the stack's directory. */
    dir?: string | undefined;
  };
}

/** Walks from `target` (container, service, image reference, id or digest) back to commit, tag and base image. */
export async function trace(target: string, deps: TraceDeps): Promise<TraceResult> {
  const resolved = await resolveTarget(target, deps.driver, deps.stack);
  const { containers, project, service } = chainStart(resolved);
  // Replicas mid-rollout may run different images: each one gets its own chain.
  const imageIds = resolved.kind === 'image' ? [resolved.image.id] : [...new Set(containers.map((container) => container.imageId))];
  const serviceImage = resolved.kind === 'service' ? deps.stack?.services[resolved.service]?.image : undefined;
  if (resolved.kind === 'service' && imageIds.length === 0 && serviceImage) {
    const image = await deps.driver.inspectImage(serviceImage);
    if (image) imageIds.push(image.id);
  }
  const images = await Promise.all(
    imageIds.map((id) => {
      const runner = containers.find((container) => container.imageId === id);
      // An id or id prefix typed as the target is not a name for the image.
      const typed = resolved.kind === 'image' && !/^(sha256:)?[0-9a-f]+$/.test(target) ? target : null;
      const reference = runner?.labels[Label.image] ?? typed ?? serviceImage ?? null;
      return traceImage(id, reference, deps);
    }),
  );
  return { target, matched: resolved.kind, project, service, containers: containers.map(tracedContainer), images };
}

/** The project, service and containers a resolved target starts the chain with. */
function chainStart(resolved: ResolvedTarget): { containers: ObservedContainer[]; project: string | null; service: string | null } {
  switch (resolved.kind) {
    case 'container': {
      const { container } = resolved;
      return { containers: [container], project: container.project || null, service: container.service || null };
    }
    case 'service':
      return { containers: resolved.containers, project: resolved.project, service: resolved.service };
    case 'image': {
      const labels = resolved.image.labels;
      return { containers: resolved.containers, project: labels[ImageLabel.project] ?? null, service: labels[ImageLabel.service] ?? null };
    }
  }
}

/** One image's provenance and whether its tag moved since. */
export async function traceImage(id: string, reference: string | null, deps: Pick<TraceDeps, 'driver' | 'store' | 'stack' | 'git'>): Promise<TracedImage> {
  const record = deps.store?.buildByImageId(id);
  const info = await deps.driver.inspectImage(id);
  const provenance = imageProvenance({ id, info, record, reference });
  const tag = provenance.git?.tag ? await checkTag(provenance.git, gitDir(deps), deps.git.resolveRef) : null;
  const tests = (deps.store?.testResultsByImage(id) ?? []).map(({ runId, status, finishedAt }) => ({ run: runId, status, finishedAt }));
  return { ...provenance, tag, tests };
}

/** Where tags are looked up: the given directory, else the project's. */
export function gitDir(deps: Pick<TraceDeps, 'stack' | 'git'>): string | undefined {
  return deps.git.dir ?? deps.stack?.workingDir;
}

/** Looks the build's tag up in the repository at `dir` now. */
async function checkTag(git: TracedGit, dir: string | undefined, resolveRef: TraceDeps['git']['resolveRef']): Promise<TagCheck | null> {
  const tag = git.tag;
  if (tag === null) return null;
  if (dir === undefined) return { tag, status: 'unchecked', now: null, dir: null };
  const now = (await resolveRef(dir, tag)) ?? null;
  if (now === null) return { tag, status: 'missing', now: null, dir };
  return { tag, status: now === git.commit ? 'unchanged' : 'moved', now, dir };
}

function tracedContainer(container: ObservedContainer): TracedContainer {
  return {
    name: container.name,
    id: container.id,
    state: container.state,
    project: container.project,
    service: container.service,
    imageId: container.imageId,
  };
}
