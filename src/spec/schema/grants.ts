/** A service's `secrets:` and `configs:` entries. */
import * as z from 'zod';
import { str, strictObject } from './common.js';

const grantObject = strictObject({
  source: str,
  target: str.optional(),
  uid: str.optional(),
  gid: str.optional(),
  // A string mode is octal ("0440"); only the resolver may read it, so no numeric coercion here.
  mode: z.union([z.number().int(), z.string()], { error: 'a file mode like 0440' }).optional(),
});

/** A service's `secrets:` or `configs:` list. */
export const grantsSchema = z.array(z.union([z.string(), grantObject], { error: 'a name or a mapping with source' }));

/** One secret or config grant as written. */
export type RawGrant = z.output<typeof grantsSchema>[number];
