/** Service `volumes:`: short strings, or the long form by type. */
import * as z from 'zod';
import { bool, int, str, strictObject } from './common.js';

/** A mount in the long syntax. */
export const volumeObject = strictObject({
  type: z.enum(['volume', 'bind', 'tmpfs']),
  source: str.optional(),
  target: str,
  read_only: bool.optional(),
  consistency: str.optional(),
  bind: strictObject({
    propagation: z.enum(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']).optional(),
    create_host_path: bool.optional(),
    selinux: z.enum(['z', 'Z']).optional(),
  }).optional(),
  volume: strictObject({ nocopy: bool.optional(), subpath: str.optional() }).optional(),
  tmpfs: strictObject({
    size: z.union([int, z.string()], { error: 'a size in bytes or like 64m' }).optional(),
    mode: z.union([z.number().int(), z.string()], { error: 'a file mode like 1777' }).optional(),
  }).optional(),
});

/** A service's `volumes:` list. */
export const serviceVolumesSchema = z.array(z.union([z.string(), volumeObject], { error: 'a volume ("name:/path", "./dir:/path:ro") or a mapping with type and target' }));

/** One mount as written. */
export type RawServiceVolume = z.output<typeof serviceVolumesSchema>[number];
