/**
 * `x-flotilla.mesh`: `true`/`false` at the top level; per service `true`, `false`, or a mapping
 * with the protocol of some ports, the HTTP resilience settings, and how many traces a second its
 * proxy starts (`traces_per_second`; every request is counted in metrics whatever it is). The resilience shape is the
 * proxy's own JSON form (src/mesh/http/resilience.ts `resilienceSchema`, snake_case, milliseconds)
 * with no defaults: the loader sits below the mesh, so the proxy fills in what is not written.
 * test/unit/spec/mesh.test.ts checks that both accept the same keys.
 */
import * as z from 'zod';
import { ABOUT_KEY, bool, COMPLETE_MESSAGE, count, int, num, strictObject } from './common.js';

const protocol = z.enum(['http', 'tcp']);

/** A count of milliseconds. */
const ms = count;

/** The proxy's resilience settings, as written (every field optional). */
export const meshResilienceSchema = strictObject({
  attempt_timeout_ms: ms.optional(),
  timeout_ms: ms.optional(),
  body_idle_timeout_ms: ms.optional(),
  retries: strictObject({
    attempts: int.pipe(z.number().min(1).max(10)).optional(),
    on_status: z.array(int.pipe(z.number().min(100).max(599))).optional(),
    on_errors: z.array(z.enum(['connect', 'reset', 'timeout'])).optional(),
    backoff_ms: ms.pipe(z.number().max(60_000)).optional(),
  }).optional(),
  budget: strictObject({
    ratio: num.pipe(z.number().min(0).max(10)).optional(),
    window_ms: ms.pipe(z.number().min(100).max(3_600_000)).optional(),
    min_retries: count.optional(),
  }).optional(),
  ejection: strictObject({
    consecutive_failures: count.optional(),
    cool_off_ms: ms.optional(),
  }).optional(),
});

/** `ports:` container port → `http` or `tcp`. Keys are checked here so a bad one is named at the key. */
const portsSchema = z.record(z.string(), protocol).superRefine(
  (ports, context) => {
  if (typeof ports !== 'object' || ports === null || Array.isArray(ports)) return;
  for (const key of Object.keys(ports)) {
    const port = /^\d+$/.test(key) ? Number(key) : Number.NaN;
    if (port >= 1 && port <= 65535) continue;
    context.addIssue({
      code: 'custom',
      path: [key],
      message: `expected a container port from 1 to 65535 as the key, found '${key}'`,
      params: { kind: COMPLETE_MESSAGE, target: ABOUT_KEY },
    });
  }
  },
  // Name bad keys even when a protocol is wrong too.
  { when: () => true },
);

/** A service's `mesh:`. The mapping comes first so a mistake inside it is explained as such. */
export const serviceMeshSchema = z.union(
  [strictObject({ ports: portsSchema.optional(), resilience: meshResilienceSchema.optional(), traces_per_second: num.pipe(z.number().min(0).max(100_000)).optional() }), bool],
  {
  error: 'true, false or a mapping with ports, resilience and traces_per_second',
});

/** The top-level `mesh:`. */
export const stackMeshSchema = bool;

/** A service's `mesh:` as written. */
export type RawServiceMesh = z.output<typeof serviceMeshSchema>;
