/** The `x-flotilla` blocks: Flotilla's own settings, strict so a typo never goes unnoticed. */
import type * as z from 'zod';
import { duration, strictObject } from './common.js';

/** Top-level `x-flotilla`. */
export const stackFlotillaSchema = strictObject({
  wait_timeout: duration.optional(),
}).nullable();

/** Per service: nothing yet; later capabilities (tests, mesh) add their keys here. */
export const serviceFlotillaSchema = strictObject({}).nullable();

/** Top-level `x-flotilla` as written. */
export type RawStackFlotilla = z.output<typeof stackFlotillaSchema>;
