/** `deploy:`, the Swarm-flavoured part of a service. */
import * as z from 'zod';
import { count, duration, int, keyValues, num, str, strictObject, strList } from './common.js';

const memory = z.union([z.number(), z.string()], { error: 'a byte size like 512M or 1g' });
const cpus = z.union([z.number(), z.string()], { error: 'a number of CPUs like 0.5' });

const updateConfig = strictObject({
  parallelism: count.optional(),
  delay: duration.optional(),
  failure_action: z.enum(['continue', 'rollback', 'pause']).optional(),
  monitor: duration.optional(),
  max_failure_ratio: num.optional(),
  order: z.enum(['stop-first', 'start-first']).optional(),
});

/** Deploy keys Compose knows and Flotilla does not use yet; accepted with a warning. */
export const DEPLOY_IGNORED = ['endpoint_mode'] as const;

/** A service's `deploy:`. */
export const deploySchema = strictObject(
  {
    mode: z.enum(['replicated', 'global']).optional(),
    replicas: count.optional(),
    resources: strictObject({
      limits: strictObject({ cpus: cpus.optional(), memory: memory.optional(), pids: int.optional() }).optional(),
      reservations: strictObject({ cpus: cpus.optional(), memory: memory.optional() }, { ignored: ['devices', 'generic_resources'] }).optional(),
    }).optional(),
    restart_policy: strictObject({
      condition: z.enum(['none', 'on-failure', 'any']).optional(),
      delay: duration.optional(),
      max_attempts: count.optional(),
      window: duration.optional(),
    }).optional(),
    update_config: updateConfig.optional(),
    rollback_config: updateConfig.optional(),
    labels: keyValues.optional(),
    placement: strictObject(
      {
        constraints: strList.optional(),
        preferences: z.array(strictObject({ spread: str })).optional(),
      },
      { ignored: ['max_replicas_per_node'] },
    ).optional(),
  },
  { ignored: DEPLOY_IGNORED, extensions: true },
);

/** `deploy:` as written. */
export type RawDeploy = z.output<typeof deploySchema>;
/** `update_config` / `rollback_config` as written. */
export type RawUpdateConfig = z.output<typeof updateConfig>;
