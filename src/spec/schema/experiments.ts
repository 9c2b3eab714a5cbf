/**
 * `x-flotilla.experiments` (and the experiment files given to `flotilla chaos run --file`): the
 * shape of each experiment. Each probe, step and rollback is a mapping with exactly one kind key
 * (`http`, `collector`, `command`; `fault`, `container`, `network`), as people write them.
 */
import * as z from 'zod';
import { COMPLETE_MESSAGE, duration, int, num, str, strictObject } from './common.js';

/** The toxic types the mesh accepts: Toxiproxy's connection-level ones and Flotilla's HTTP message-level ones. */
export const TOXIC_TYPES = [
  'latency', 'bandwidth', 'slicer', 'reset_peer', 'timeout', 'limit_data',
  'http_abort', 'http_drop', 'http_duplicate', 'http_delay',
] as const;

/** Actions a `container` step may take. */
export const CONTAINER_ACTIONS = ['kill', 'pause', 'unpause', 'restart', 'stop', 'start'] as const;

/** Figures a `collector` probe may read. */
export const COLLECTOR_QUERIES = ['error_rate', 'p50', 'p95', 'p99', 'calls', 'rate'] as const;

const positiveInt = int.pipe(z.number().min(1));
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'a string, a number or true/false' });
const stringValues = z.record(z.string(), z.union([z.string(), z.number().transform(String), z.boolean().transform(String)], { error: 'a string' }));
const command = z.union([z.string(), z.array(str)], { error: 'a command string or a list of arguments' });

/** A request: `url` plus the usual parts; a mapping body is sent as JSON. */
const httpRequest = {
  url: str,
  method: str.optional(),
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())], { error: 'a string, a mapping or a list' }).optional(),
  headers: stringValues.optional(),
  timeout: duration.optional(),
};

const httpProbe = strictObject({
  ...httpRequest,
  expect: strictObject({
    status: z.union([positiveInt, z.array(positiveInt)], { error: 'a status code or a list of them' }).optional(),
    body_contains: str.optional(),
    json: z.unknown().optional(),
  }).optional(),
});

const collectorProbe = strictObject({
  query: z.enum(COLLECTOR_QUERIES),
  service: str.optional(),
  operation: str.optional(),
  edge: strictObject({ source: str, target: str }).optional(),
  window: duration.optional(),
  below: num.optional(),
  above: num.optional(),
});

const commandProbe = strictObject({
  service: str,
  replica: positiveInt.optional(),
  run: command,
  timeout: duration.optional(),
  expect: strictObject({ exit_code: int.optional(), stdout_contains: str.optional() }).optional(),
});

/** One probe of the hypothesis. */
const probe = oneKind(['http', 'collector', 'command'], {
  name: str.optional(),
  http: httpProbe.optional(),
  collector: collectorProbe.optional(),
  command: commandProbe.optional(),
});

/** How long a step lasts: `duration` or `requests` (of the load), else until the experiment ends. */
const length = {
  duration: duration.optional(),
  requests: positiveInt.optional(),
};

const toxic = strictObject({
  name: str.optional(),
  type: z.enum(TOXIC_TYPES),
  stream: z.enum(['upstream', 'downstream']).optional(),
  toxicity: num.pipe(z.number().min(0).max(1)).optional(),
  attributes: z.record(z.string(), scalar).optional(),
});

const faultStep = strictObject({ service: str, toxic, at: duration.optional(), ...length });

const containerStep = strictObject({
  service: str,
  replica: positiveInt.optional(),
  action: z.enum(CONTAINER_ACTIONS),
  signal: str.optional(),
  at: duration.optional(),
  ...length,
});

const networkStep = strictObject({
  service: str,
  replica: positiveInt.optional(),
  cut: z.literal(true, { error: 'true' }),
  at: duration.optional(),
  ...length,
});

/** One step of the method. */
const step = oneKind(['fault', 'container', 'network'], { fault: faultStep.optional(), container: containerStep.optional(), network: networkStep.optional() });

const rollbackContainer = strictObject({ service: str, replica: positiveInt.optional(), action: z.enum(CONTAINER_ACTIONS), signal: str.optional() });
const rollbackCommand = strictObject({ service: str, replica: positiveInt.optional(), run: command, timeout: duration.optional() });

/** One rollback. */
const rollback = oneKind(['container', 'command'], { container: rollbackContainer.optional(), command: rollbackCommand.optional() });

const load = strictObject({
  http: strictObject(httpRequest),
  rate: num.pipe(z.number().refine((rate) => rate > 0 && rate <= 10_000, 'a rate above 0, up to 10000 requests per second')),
  duration,
  concurrency: positiveInt.pipe(z.number().max(1_000)).optional(),
});

/** One experiment as written. */
export const experimentSchema = strictObject({
  description: str.optional(),
  hypothesis: z.array(probe).nullable().optional(),
  method: z.array(step).nullable().optional(),
  load: load.optional(),
  rollbacks: z.array(rollback).nullable().optional(),
  settle: duration.optional(),
});

/** `experiments:`: name → experiment. */
export const experimentsSchema = z.record(z.string(), experimentSchema).nullable();

/** One experiment as written. */
export type RawExperiment = z.output<typeof experimentSchema>;
/** One probe as written. */
export type RawProbe = z.output<typeof probe>;
/** One step as written. */
export type RawStep = z.output<typeof step>;
/** One rollback as written. */
export type RawRollback = z.output<typeof rollback>;
/** An HTTP request as written. */
export type RawHttpRequest = z.output<z.ZodObject<typeof httpRequest>>;

/** A mapping with exactly one of `kinds` (plus the other keys of `shape`). */
function oneKind<S extends z.ZodRawShape>(kinds: readonly string[], shape: S) {
  return strictObject(shape).superRefine((value, context) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const present = kinds.filter((kind) => (value as Record<string, unknown>)[kind] !== undefined);
    if (present.length === 1) return;
    // An unknown key (a misspelt kind, most likely) is reported as such already.
    if (present.length === 0 && Object.keys(value).some((key) => !Object.hasOwn(shape, key))) return;
    const message = present.length === 0 ? `expected one of ${kinds.map((k) => `'${k}'`).join(', ')}` : `only one of ${present.map((k) => `'${k}'`).join(', ')} may be set here; write them as separate entries`;
    context.addIssue({ code: 'custom', path: [], message, params: { kind: COMPLETE_MESSAGE } });
  });
}
