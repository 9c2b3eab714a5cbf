/** One service, as written (after merge and extends). */
import * as z from 'zod';
import { bool, count, duration, int, keyValues, str, strictObject, stringMap, strList } from './common.js';
import { buildSchema } from './build.js';
import { deploySchema } from './deploy.js';
import { grantsSchema } from './grants.js';
import { healthcheckSchema } from './healthcheck.js';
import { serviceNetworksSchema } from './networks.js';
import { exposeSchema, portsSchema } from './ports.js';
import { serviceFlotillaSchema } from './flotilla.js';
import { serviceVolumesSchema } from './volumes.js';

/** Service keys of the Compose Specification that Flotilla does not apply yet: accepted, with a warning. */
export const SERVICE_IGNORED = [
  'annotations', 'attach', 'blkio_config', 'cgroup', 'cgroup_parent', 'container_name', 'cpu_count', 'cpu_percent', 'cpu_period',
  'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpu_shares', 'cpus', 'cpuset', 'credential_spec', 'develop', 'device_cgroup_rules',
  'devices', 'dns', 'dns_opt', 'dns_search', 'external_links', 'gpus', 'group_add', 'ipc', 'isolation', 'label_file', 'links',
  'mac_address', 'mem_limit', 'mem_reservation', 'mem_swappiness', 'memswap_limit', 'models', 'oom_kill_disable', 'oom_score_adj',
  'pid', 'pids_limit', 'platform', 'post_start', 'pre_stop', 'provider', 'runtime', 'security_opt', 'shm_size', 'storage_opt',
  'sysctls', 'tmpfs', 'use_api_socket', 'userns_mode', 'uts', 'volumes_from',
] as const;

const envFileItem = z.union([z.string(), strictObject({ path: str, required: bool.optional(), format: str.optional() })], {
  error: 'a path or a mapping with path',
});

const dependsOn = z.union(
  [
    z.array(str),
    z.record(
      z.string(),
      strictObject({
        condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']).optional(),
        restart: bool.optional(),
        required: bool.optional(),
      }),
    ),
  ],
  { error: 'a list of service names or a mapping of services' },
);

const ulimit = z.union([int, strictObject({ soft: int, hard: int })], { error: 'a number or a mapping with soft and hard' });

const extraHosts = z.union([z.array(str), z.record(z.string(), z.union([str, z.array(str)], { error: 'an IP address' }))], {
  error: 'a list of "host=ip" strings or a mapping of host to IP',
});

const serviceShape = {
    image: str.optional(),
    build: buildSchema.optional(),
    command: z.union([z.string(), z.array(str), z.null()], { error: 'a command string or a list of arguments' }).optional(),
    entrypoint: z.union([z.string(), z.array(str), z.null()], { error: 'a command string or a list of arguments' }).optional(),
    environment: keyValues.optional(),
    env_file: z.union([z.string(), z.array(envFileItem)], { error: 'a path or a list of paths' }).optional(),
    ports: portsSchema.optional(),
    expose: exposeSchema.optional(),
    volumes: serviceVolumesSchema.optional(),
    networks: serviceNetworksSchema.optional(),
    network_mode: str.optional(),
    depends_on: dependsOn.optional(),
    healthcheck: healthcheckSchema.optional(),
    restart: str.optional(),
    deploy: deploySchema.nullable().optional(),
    scale: count.optional(),
    labels: keyValues.optional(),
    user: str.optional(),
    working_dir: str.optional(),
    init: bool.optional(),
    stop_signal: str.optional(),
    stop_grace_period: duration.optional(),
    secrets: grantsSchema.optional(),
    configs: grantsSchema.optional(),
    extra_hosts: extraHosts.optional(),
    hostname: str.optional(),
    domainname: str.optional(),
    cap_add: strList.optional(),
    cap_drop: strList.optional(),
    read_only: bool.optional(),
    privileged: bool.optional(),
    tty: bool.optional(),
    stdin_open: bool.optional(),
    ulimits: z.record(z.string(), ulimit).optional(),
    logging: strictObject({ driver: str.optional(), options: stringMap.nullable().optional() }).optional(),
    pull_policy: str.optional(),
    profiles: strList.optional(),
    'x-flotilla': serviceFlotillaSchema.optional(),
    /** Present only when `extends` could not be applied (already reported). */
    extends: z.unknown().optional(),
};

/** Every key a service may have. */
export const SERVICE_KEYS: ReadonlySet<string> = new Set([...Object.keys(serviceShape), ...SERVICE_IGNORED]);

/** One service; unknown keys are issues, Compose keys Flotilla ignores are accepted. */
export const serviceSchema = strictObject(serviceShape, { ignored: SERVICE_IGNORED, extensions: true });

/** One service as written. */
export type RawService = z.output<typeof serviceSchema>;
