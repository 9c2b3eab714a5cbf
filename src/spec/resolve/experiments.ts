/**
 * Experiments as written → ExperimentSpec records: defaults applied (GET, `5s` timeouts, `1m`
 * windows, toxicity 1, a unique toxic name), commands shell-split, and what zod cannot see
 * checked with its place: services that exist, one bound per collector probe, a length only
 * where it means something, toxic names used once.
 */
import { tryParseDuration } from '../duration.js';
import type { IssueTarget } from '../issues.js';
import type { RawExperiment, RawHttpRequest, RawProbe, RawRollback, RawStep } from '../schema/experiments.js';
import { isHttpUrl } from '../schema/flotilla.js';
import { didYouMean } from '../suggest.js';
import type { ActionLength, ActionSpec, ExperimentSpec, HttpRequestSpec, LoadSpec, ProbeSpec, RollbackSpec } from '../types.js';
import type { PathSegment } from '../yaml-node.js';
import { shellWords } from './shell-words.js';

/** Default timeout of one HTTP request (probe or load). */
export const DEFAULT_HTTP_TIMEOUT = '5s';
/** Default timeout of a command probe or rollback. */
export const DEFAULT_COMMAND_TIMEOUT = '30s';
/** Default window of a collector probe. */
export const DEFAULT_WINDOW = '1m';
/** Default requests in flight of a load. */
export const DEFAULT_CONCURRENCY = 8;
/** The most requests one load may send: a typo in `rate` or `duration` must not flood a service. */
export const MAX_LOAD_REQUESTS = 1_000_000;

const EXPERIMENT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/;

/** Where experiments are written and how to report a problem there. */
export interface ExperimentContext {
  /** Services the stack declares; undefined when there is no stack to check against. */
  services: ReadonlySet<string> | undefined;
  fail(path: readonly PathSegment[], message: string, target?: IssueTarget): void;
}

/** Every experiment of `raw` (found at `prefix`), sorted by name; problems go to the context. */
export function resolveExperiments(raw: Record<string, RawExperiment> | null | undefined, prefix: readonly PathSegment[], context: ExperimentContext): Record<string, ExperimentSpec> {
  const out: Record<string, ExperimentSpec> = {};
  for (const name of Object.keys(raw ?? {}).sort()) {
    const experiment = raw?.[name];
    const path = [...prefix, name];
    if (!EXPERIMENT_NAME.test(name)) context.fail(path, `invalid experiment name '${name}': use letters, digits, '.', '_' and '-'`, 'key');
    if (experiment) out[name] = resolveExperiment(name, experiment, path, context);
  }
  return out;
}

function resolveExperiment(name: string, raw: RawExperiment, path: readonly PathSegment[], context: ExperimentContext): ExperimentSpec {
  const toxicNames = new Map<string, number>();
  const method = (raw.method ?? []).map((step, index) => resolveStep(step, { name, index, path: [...path, 'method', index], context, toxicNames }));
  const spec: ExperimentSpec = {
    name,
    hypothesis: (raw.hypothesis ?? []).map((probe, index) => resolveProbe(probe, [...path, 'hypothesis', index], context)),
    method,
    rollbacks: (raw.rollbacks ?? []).map((rollback, index) => resolveRollback(rollback, [...path, 'rollbacks', index], context)),
    settle: raw.settle ?? '0s',
  };
  if (raw.description !== undefined) spec.description = raw.description;
  if (raw.load) spec.load = resolveLoad(raw.load, [...path, 'load'], context);
  if (spec.hypothesis.length === 0 && spec.method.length === 0) context.fail(path, `experiment '${name}' has neither a hypothesis nor a method`, 'key');
  const byRequests = method.find((step) => 'requests' in step.length);
  if (byRequests && !spec.load) context.fail(path, `a step lasts a number of requests but the experiment has no 'load' to send them`, 'key');
  return spec;
}

function resolveProbe(raw: RawProbe, path: readonly PathSegment[], context: ExperimentContext): ProbeSpec {
  if (raw.http) {
    const request = resolveRequest(raw.http, [...path, 'http'], context);
    const expect = raw.http.expect ?? {};
    const status = expect.status === undefined ? undefined : Array.isArray(expect.status) ? expect.status : [expect.status];
    status?.forEach((code, index) => {
      if (code < 100 || code > 599) context.fail([...path, 'http', 'expect', 'status', ...(Array.isArray(expect.status) ? [index] : [])], `expected an HTTP status from 100 to 599, found ${code}`);
    });
    return {
      kind: 'http',
      name: raw.name ?? `http ${request.method} ${request.url}`,
      request,
      expect: {
        ...(status && { status }),
        ...(expect.body_contains !== undefined && { bodyContains: expect.body_contains }),
        ...(expect.json !== undefined && { json: expect.json }),
      },
    };
  }
  if (raw.collector) {
    const at = [...path, 'collector'];
    const probe = raw.collector;
    if (probe.service === undefined && probe.edge === undefined) context.fail(at, "a collector probe needs 'service' or 'edge'", 'key');
    if (probe.service !== undefined && probe.edge !== undefined) context.fail([...at, 'edge'], "'service' and 'edge' cannot both be set: a probe reads one figure", 'key');
    if (probe.operation !== undefined && probe.service === undefined) context.fail([...at, 'operation'], "'operation' needs 'service'", 'key');
    if (probe.below === undefined && probe.above === undefined) context.fail(at, "a collector probe needs a bound: 'below', 'above' or both", 'key');
    if (probe.below !== undefined && probe.above !== undefined && probe.above >= probe.below) context.fail([...at, 'above'], `'above' (${probe.above}) must be less than 'below' (${probe.below})`);
    const window = probe.window ?? DEFAULT_WINDOW;
    if (tryParseDuration(window) === 0) context.fail([...at, 'window'], 'expected a window above zero');
    if (probe.service !== undefined) checkService(probe.service, [...at, 'service'], context);
    const target = probe.edge ? `${probe.edge.source} -> ${probe.edge.target}` : `${probe.service ?? ''}${probe.operation === undefined ? '' : ` ${probe.operation}`}`;
    return {
      kind: 'collector',
      name: raw.name ?? `${probe.query} of ${target} over ${window}`,
      query: probe.query,
      window,
      ...(probe.service !== undefined && { service: probe.service }),
      ...(probe.operation !== undefined && { operation: probe.operation }),
      ...(probe.edge && { edge: { source: probe.edge.source, target: probe.edge.target } }),
      ...(probe.below !== undefined && { below: probe.below }),
      ...(probe.above !== undefined && { above: probe.above }),
    };
  }
  const probe = raw.command;
  const at = [...path, 'command'];
  if (!probe) return { kind: 'command', name: raw.name ?? 'command', service: '', replica: 1, run: [], expect: { exitCode: 0 }, timeout: DEFAULT_COMMAND_TIMEOUT };
  checkService(probe.service, [...at, 'service'], context);
  const run = resolveCommand(probe.run, [...at, 'run'], context);
  const timeout = probe.timeout ?? DEFAULT_COMMAND_TIMEOUT;
  if (tryParseDuration(timeout) === 0) context.fail([...at, 'timeout'], 'expected a timeout above zero');
  return {
    kind: 'command',
    name: raw.name ?? `command in ${probe.service}: ${run.join(' ')}`,
    service: probe.service,
    replica: probe.replica ?? 1,
    run,
    expect: { exitCode: probe.expect?.exit_code ?? 0, ...(probe.expect?.stdout_contains !== undefined && { stdoutContains: probe.expect.stdout_contains }) },
    timeout,
  };
}

interface StepContext {
  name: string;
  index: number;
  path: readonly PathSegment[];
  context: ExperimentContext;
  toxicNames: Map<string, number>;
}

function resolveStep(raw: RawStep, at: StepContext): ActionSpec {
  const { path, context } = at;
  if (raw.fault) {
    const fault = raw.fault;
    const where = [...path, 'fault'];
    checkService(fault.service, [...where, 'service'], context);
    const name = fault.toxic.name ?? `chaos-${at.name}-${at.index + 1}`;
    const earlier = at.toxicNames.get(`${fault.service}/${name}`);
    if (earlier !== undefined) context.fail([...where, 'toxic', 'name'], `toxic '${name}' of ${fault.service} is already added by step ${earlier + 1}; give each a name of its own`);
    at.toxicNames.set(`${fault.service}/${name}`, at.index);
    checkAttributes(fault.toxic.type, fault.toxic.attributes ?? {}, [...where, 'toxic', 'attributes'], context);
    return {
      kind: 'fault',
      service: fault.service,
      toxic: { name, type: fault.toxic.type, stream: fault.toxic.stream ?? 'downstream', toxicity: fault.toxic.toxicity ?? 1, attributes: fault.toxic.attributes ?? {} },
      at: fault.at ?? '0s',
      length: resolveLength(fault, where, context),
    };
  }
  if (raw.container) {
    const step = raw.container;
    const where = [...path, 'container'];
    checkService(step.service, [...where, 'service'], context);
    if (step.signal !== undefined && step.action !== 'kill') context.fail([...where, 'signal'], `'signal' applies to action 'kill' only, not '${step.action}'`, 'key');
    if (step.action !== 'pause' && (step.duration !== undefined || step.requests !== undefined)) {
      const key = step.duration !== undefined ? 'duration' : 'requests';
      context.fail([...where, key], `'${key}' applies to action 'pause' only (then the container is unpaused); '${step.action}' is done once`, 'key');
    }
    return {
      kind: 'container',
      service: step.service,
      ...(step.replica !== undefined && { replica: step.replica }),
      action: step.action,
      ...(step.signal !== undefined && { signal: normalizeSignal(step.signal) }),
      at: step.at ?? '0s',
      length: step.action === 'pause' ? resolveLength(step, where, context) : { until: 'end' },
    };
  }
  const step = raw.network;
  const where = [...path, 'network'];
  if (!step) return { kind: 'network', service: '', at: '0s', length: { until: 'end' } };
  checkService(step.service, [...where, 'service'], context);
  return {
    kind: 'network',
    service: step.service,
    ...(step.replica !== undefined && { replica: step.replica }),
    at: step.at ?? '0s',
    length: resolveLength(step, where, context),
  };
}

function resolveLength(raw: { duration?: string | undefined; requests?: number | undefined }, path: readonly PathSegment[], context: ExperimentContext): ActionLength {
  if (raw.duration !== undefined && raw.requests !== undefined) context.fail([...path, 'requests'], "'duration' and 'requests' cannot both be set", 'key');
  if (raw.duration !== undefined) {
    if (tryParseDuration(raw.duration) === 0) context.fail([...path, 'duration'], 'expected a duration above zero (leave it out to last until the end)');
    return { duration: raw.duration };
  }
  if (raw.requests !== undefined) return { requests: raw.requests };
  return { until: 'end' };
}

function resolveRollback(raw: RawRollback, path: readonly PathSegment[], context: ExperimentContext): RollbackSpec {
  if (raw.container) {
    const step = raw.container;
    checkService(step.service, [...path, 'container', 'service'], context);
    if (step.signal !== undefined && step.action !== 'kill') context.fail([...path, 'container', 'signal'], `'signal' applies to action 'kill' only, not '${step.action}'`, 'key');
    return {
      kind: 'container',
      service: step.service,
      ...(step.replica !== undefined && { replica: step.replica }),
      action: step.action,
      ...(step.signal !== undefined && { signal: normalizeSignal(step.signal) }),
    };
  }
  const step = raw.command;
  if (!step) return { kind: 'command', service: '', replica: 1, run: [], timeout: DEFAULT_COMMAND_TIMEOUT };
  checkService(step.service, [...path, 'command', 'service'], context);
  return {
    kind: 'command',
    service: step.service,
    replica: step.replica ?? 1,
    run: resolveCommand(step.run, [...path, 'command', 'run'], context),
    timeout: step.timeout ?? DEFAULT_COMMAND_TIMEOUT,
  };
}

function resolveLoad(raw: NonNullable<RawExperiment['load']>, path: readonly PathSegment[], context: ExperimentContext): LoadSpec {
  const ms = tryParseDuration(raw.duration) ?? 0;
  if (ms === 0) context.fail([...path, 'duration'], 'expected a duration above zero');
  if ((raw.rate * ms) / 1000 > MAX_LOAD_REQUESTS) context.fail([...path, 'rate'], `rate × duration is more than ${MAX_LOAD_REQUESTS.toLocaleString('en-US')} requests; shorten the load or lower the rate`);
  return { request: resolveRequest(raw.http, [...path, 'http'], context), rate: raw.rate, duration: raw.duration, concurrency: raw.concurrency ?? DEFAULT_CONCURRENCY };
}

function resolveRequest(raw: RawHttpRequest, path: readonly PathSegment[], context: ExperimentContext): HttpRequestSpec {
  if (!isHttpUrl(raw.url)) context.fail([...path, 'url'], `expected an http:// or https:// URL such as http://127.0.0.1:8080/health, found '${raw.url}'`);
  const headers: Record<string, string> = { ...(raw.headers ?? {}) };
  let body: string | undefined;
  if (typeof raw.body === 'string') body = raw.body;
  else if (raw.body !== undefined) {
    body = JSON.stringify(raw.body);
    if (!Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const method = (raw.method ?? 'GET').toUpperCase();
  if (!/^[A-Z]+$/.test(method)) context.fail([...path, 'method'], `expected an HTTP method such as GET or POST, found '${raw.method ?? ''}'`);
  const timeout = raw.timeout ?? DEFAULT_HTTP_TIMEOUT;
  if (tryParseDuration(timeout) === 0) context.fail([...path, 'timeout'], 'expected a timeout above zero');
  return { url: raw.url, method, ...(body !== undefined && { body }), headers, timeout };
}

function resolveCommand(raw: string | string[], path: readonly PathSegment[], context: ExperimentContext): string[] {
  let words: string[];
  if (Array.isArray(raw)) words = raw;
  else {
    const split = shellWords(raw);
    if ('error' in split) {
      context.fail(path, split.error);
      return [];
    }
    words = split.words;
  }
  if (words.length === 0) context.fail(path, 'expected a command, found an empty one');
  return words;
}

/** The shape of the match attributes every message-level fault takes; the mesh judges the rest. */
function checkAttributes(type: string, attributes: Record<string, string | number | boolean>, path: readonly PathSegment[], context: ExperimentContext): void {
  if (!type.startsWith('http_')) return;
  for (const key of ['method', 'path', 'header'] as const) {
    const value = attributes[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') context.fail([...path, key], `expected a string, found ${String(value)}`);
    else if (key === 'path' && !value.startsWith('/')) context.fail([...path, key], `expected a path prefix starting with '/', found '${value}'`);
    else if (key === 'header' && !HEADER.test(value)) context.fail([...path, key], `expected 'name: value', found '${value}'`);
  }
}

function checkService(service: string, path: readonly PathSegment[], context: ExperimentContext): void {
  if (!context.services || context.services.has(service)) return;
  context.fail(path, `no service '${service}' in the stack${didYouMean(service, context.services)}`);
}

/** `kill` → `SIGKILL`, `sigterm` → `SIGTERM`; numbers stay as they are. */
function normalizeSignal(signal: string): string {
  if (/^\d+$/.test(signal)) return signal;
  const upper = signal.toUpperCase();
  return upper.startsWith('SIG') ? upper : `SIG${upper}`;
}
