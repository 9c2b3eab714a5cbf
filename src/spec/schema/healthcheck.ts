/** `healthcheck:`. */
import * as z from 'zod';
import { bool, count, duration, str, strictObject } from './common.js';

/** A service's `healthcheck:`. */
export const healthcheckSchema = strictObject({
  test: z.union([z.string(), z.array(str)], { error: 'a command string or a list starting with CMD, CMD-SHELL or NONE' }).optional(),
  interval: duration.optional(),
  timeout: duration.optional(),
  retries: count.optional(),
  start_period: duration.optional(),
  start_interval: duration.optional(),
  disable: bool.optional(),
});

/** `healthcheck:` as written. */
export type RawHealthcheck = z.output<typeof healthcheckSchema>;
