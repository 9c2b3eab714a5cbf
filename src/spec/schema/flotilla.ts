/** The `x-flotilla` blocks: Flotilla's own settings, strict so a typo never goes unnoticed. */
import type * as z from 'zod';
import { duration, strictObject } from './common.js';
import { testsSchema } from './tests.js';

/** Top-level `x-flotilla`. */
export const stackFlotillaSchema = strictObject({
  wait_timeout: duration.optional(),
}).nullable();

/** Per service: its test suites. */
export const serviceFlotillaSchema = strictObject({
  tests: testsSchema.optional(),
}).nullable();

/** Top-level `x-flotilla` as written. */
export type RawStackFlotilla = z.output<typeof stackFlotillaSchema>;

/** A service's `x-flotilla` as written. */
export type RawServiceFlotilla = z.output<typeof serviceFlotillaSchema>;
