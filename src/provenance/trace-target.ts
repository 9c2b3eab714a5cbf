/**
 * What a `trace` target names. Exact names win over prefixes, in this order: a container (name or
 * full id), a service of the current stack, an image (reference, full id or digest). Otherwise a
 * hex prefix may match container ids and an image id; more than one match is ambiguous.
 */
import { FlotillaError } from '../core/errors.js';
import type { Driver, ImageInfo, ObservedContainer } from '../runtime/driver.js';
import type { Stack } from '../spec/types.js';

/** A target, resolved. */
export type ResolvedTarget =
  | { kind: 'container'; container: ObservedContainer }
  | { kind: 'service'; project: string; service: string; containers: ObservedContainer[] }
  | { kind: 'image'; image: ImageInfo; /** Flotilla containers running it. */ containers: ObservedContainer[] };

/** The target names nothing on the engine or in the stack. Exits 1. */
export class TargetNotFoundError extends FlotillaError {
  override readonly name = 'TargetNotFoundError';
}

/** The target is a prefix of several things. Exits 2, like any command line to correct. */
export class AmbiguousTargetError extends FlotillaError {
  override readonly name = 'AmbiguousTargetError';
  override readonly kind = 'usage';
  readonly candidates: string[];

  constructor(target: string, candidates: string[]) {
    super('TRACE_AMBIGUOUS', `"${target}" is a prefix of ${candidates.length} things:\n  ${candidates.join('\n  ')}`, {
      hint: 'Give more characters of the id, or a full name.',
    });
    this.candidates = candidates;
  }
}

/** Resolves `target` against every Flotilla container on the engine, the stack's services, and the engine's images. */
export async function resolveTarget(target: string, driver: Driver, stack: Stack | undefined): Promise<ResolvedTarget> {
  const name = target.replace(/^\//, '');
  const containers = await driver.allProjectContainers();
  const exact = containers.find((container) => container.name === name || container.id === name);
  if (exact) return { kind: 'container', container: exact };

  if (stack) {
    const ofService = containers.filter((container) => container.project === stack.name && container.service === target);
    if (stack.services[target] || ofService.length > 0) {
      return { kind: 'service', project: stack.name, service: target, containers: ofService.sort((a, b) => a.replica - b.replica) };
    }
  }

  const hex = /^(sha256:)?([0-9a-f]+)$/.exec(target)?.[2];
  const image = await driver.inspectImage(target);
  const imageByPrefix = image !== undefined && hex !== undefined && hex.length < 64 && image.id.replace(/^sha256:/, '').startsWith(hex);
  const imageTarget = (found: ImageInfo): ResolvedTarget => ({
    kind: 'image',
    image: found,
    containers: containers.filter((container) => container.imageId === found.id),
  });
  if (image && !imageByPrefix) return imageTarget(image);

  const byPrefix = hex === undefined || target.startsWith('sha256:') ? [] : containers.filter((container) => container.id.startsWith(hex));
  const candidates = [
    ...byPrefix.map((container) => `container ${container.name} (${container.id.slice(0, 12)})`),
    ...(image ? [`image ${image.id.slice(0, 19)}`] : []),
  ];
  if (candidates.length > 1) throw new AmbiguousTargetError(target, candidates.sort());
  const [container] = byPrefix;
  if (container) return { kind: 'container', container };
  if (image) return imageTarget(image);

  // A container Flotilla did not create, by its exact name or full id (never a prefix: the Engine's
  // own prefix matching would bypass the ambiguity check above).
  if (hex === undefined || hex.length === 64) {
    const other = await driver.inspectContainer(name);
    if (other && (other.name === name || other.id === name)) return { kind: 'container', container: other };
  }
  throw notFound(target, stack);
}

function notFound(target: string, stack: Stack | undefined): TargetNotFoundError {
  const tried = [
    'a container (name, id or id prefix) on the engine',
    stack ? `a service of project ${stack.name}` : 'a service (no Compose file here, so no services)',
    'an image (reference, id, short id or digest) on the engine',
  ];
  return new TargetNotFoundError('TRACE_NOT_FOUND', `Nothing matches "${target}": it is not ${tried.join(', nor ')}.`, {
    hint: 'List what runs with `flotilla ps` or `docker ps`; to go from a commit or tag to what runs it, use `flotilla trace --commit REF`.',
  });
}
