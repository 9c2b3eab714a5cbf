/** `build:`: a context path, or the long form. */
import * as z from 'zod';
import { keyValues, str, strictObject } from './common.js';

/** Build keys Compose knows and Flotilla does not use yet; accepted with a warning. */
export const BUILD_IGNORED = [
  'additional_contexts', 'cache_from', 'cache_to', 'dockerfile_inline', 'entitlements', 'extra_hosts', 'isolation', 'network',
  'no_cache', 'platforms', 'privileged', 'provenance', 'pull', 'sbom', 'secrets', 'shm_size', 'ssh', 'tags', 'ulimits',
] as const;

/** `build:` in the long form. */
export const buildObject = strictObject(
  {
    context: str.optional(),
    dockerfile: str.optional(),
    args: keyValues.optional(),
    target: str.optional(),
    labels: keyValues.optional(),
  },
  { ignored: BUILD_IGNORED, extensions: true },
);

/** `build:`: a context path or the long form. */
export const buildSchema = z.union([z.string(), buildObject], { error: 'a build context path or a mapping with context' });

/** `build:` as written. */
export type RawBuild = z.output<typeof buildSchema>;
