/** The `x-flotilla` blocks: Flotilla's own settings, strict so a typo never goes unnoticed. */
import * as z from 'zod';
import { bool, duration, strictObject } from './common.js';
import { experimentsSchema } from './experiments.js';
import { serviceMeshSchema, stackMeshSchema } from './mesh.js';
import { testsSchema } from './tests.js';

/** An absolute http:// or https:// URL, as OTLP/HTTP endpoints are written. */
const httpUrl = z.custom<string>((value) => typeof value === 'string' && isHttpUrl(value), 'an http:// or https:// URL such as http://collector:4318');

/**
 * `telemetry:` at the top level: on or off, or where services send their telemetry. The mapping
 * comes first so a mistake inside it is explained as such, not as "expected true or false".
 */
const stackTelemetrySchema = z.union([strictObject({ endpoint: httpUrl.optional() }), bool], {
  error: 'true, false or a mapping with endpoint',
});

/** Top-level `x-flotilla`. */
export const stackFlotillaSchema = strictObject({
  wait_timeout: duration.optional(),
  telemetry: stackTelemetrySchema.optional(),
  experiments: experimentsSchema.optional(),
  mesh: stackMeshSchema.optional(),
}).nullable();

/** Per service: its test suites, whether `up` points it at the collector, and whether (and how) it is meshed. */
export const serviceFlotillaSchema = strictObject({
  tests: testsSchema.optional(),
  telemetry: bool.optional(),
  mesh: serviceMeshSchema.optional(),
}).nullable();

/** Top-level `x-flotilla` as written. */
export type RawStackFlotilla = z.output<typeof stackFlotillaSchema>;

/** A service's `x-flotilla` as written. */
export type RawServiceFlotilla = z.output<typeof serviceFlotillaSchema>;

/** True for an absolute http(s) URL with a host. */
export function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\//i.test(text)) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
}
