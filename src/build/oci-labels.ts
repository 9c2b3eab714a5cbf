/**
 * The labels a built image carries: OCI annotations for standard tools, Flotilla's own for
 * `trace`. Every key is always set, empty when unknown, because the Engine applies build labels
 * over the base image's: a key left out would show the base image's revision or version instead.
 */
import { ImageLabel } from './image-labels.js';
import type { BaseImage, GitInfo } from './types.js';

/** What the labels describe. */
export interface ImageLabelsInput {
  git: GitInfo | undefined;
  version: string;
  baseImages: BaseImage[];
  /** The external image at the root of the final stage (undefined for `scratch`). */
  finalBase?: string | undefined;
  project: string;
  service: string;
  created: Date;
}

/**
 * Every ImageLabel key. Revision, source and version come from git (empty without it); version is
 * the tag at HEAD, else `git describe`. Without git the build counts as dirty: nothing proves its
 * files match a commit. The base digest is the final base's registry digest, else its image id.
 */
export function imageLabels(input: ImageLabelsInput): Record<string, string> {
  const { git } = input;
  const base = input.finalBase === undefined ? undefined : input.baseImages.find((image) => image.reference === input.finalBase);
  return {
    [ImageLabel.revision]: git?.commit ?? '',
    [ImageLabel.source]: git?.source ?? '',
    [ImageLabel.version]: git ? (git.tag ?? git.describe) : '',
    [ImageLabel.created]: input.created.toISOString(),
    [ImageLabel.buildVersion]: input.version,
    [ImageLabel.dirty]: String(git?.dirty ?? true),
    [ImageLabel.baseImage]: input.finalBase ?? '',
    [ImageLabel.baseDigest]: base?.digest ?? base?.id ?? '',
    [ImageLabel.project]: input.project,
    [ImageLabel.service]: input.service,
  };
}
