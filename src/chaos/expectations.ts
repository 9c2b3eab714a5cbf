/**
 * Pure checks of what a probe saw against what its spec expects. Each returns the value seen and
 * the expectation in words, so the report shows both whether the probe held or not.
 */
import type { CollectorProbeSpec, CommandProbeSpec, HttpProbeSpec } from '../spec/types.js';

/** A check's outcome, before timing and naming are added. */
export interface Check {
  ok: boolean;
  value: string | number | null;
  expected: string;
  detail?: string;
}

/** What an HTTP request got: an answer, or a failure with its class (`timeout`, `refused`…). */
export type HttpOutcome = { status: number; body: string; ms: number } | { error: string; reason: string; ms: number };

/** How much of a body the report quotes. */
const EXCERPT = 120;

/** Status (default: below 400), text and JSON subset. */
export function checkHttp(expect: HttpProbeSpec['expect'], outcome: HttpOutcome): Check {
  const expected = describeHttpExpectation(expect);
  if ('error' in outcome) return { ok: false, value: null, expected, detail: `no answer: ${outcome.error}` };
  const value = `${outcome.status} ${excerpt(outcome.body)}`.trim();
  const statusOk = expect.status ? expect.status.includes(outcome.status) : outcome.status < 400;
  if (!statusOk) return { ok: false, value, expected, detail: `status ${outcome.status}` };
  if (expect.bodyContains !== undefined && !outcome.body.includes(expect.bodyContains)) {
    return { ok: false, value, expected, detail: `the body does not contain ${JSON.stringify(expect.bodyContains)}` };
  }
  if (expect.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(outcome.body);
    } catch {
      return { ok: false, value, expected, detail: 'the body is not JSON' };
    }
    const mismatch = jsonMismatch(parsed, expect.json, '$');
    if (mismatch !== undefined) return { ok: false, value, expected, detail: mismatch };
  }
  return { ok: true, value, expected };
}

function describeHttpExpectation(expect: HttpProbeSpec['expect']): string {
  const parts = [expect.status ? `status ${expect.status.join(' or ')}` : 'status < 400'];
  if (expect.bodyContains !== undefined) parts.push(`body contains ${JSON.stringify(expect.bodyContains)}`);
  if (expect.json !== undefined) parts.push(`JSON contains ${JSON.stringify(expect.json)}`);
  return parts.join(', ');
}

/**
 * Where `actual` does not contain `expected`, or undefined when it does: objects match when every
 * expected key matches (other keys are ignored); arrays and scalars must be equal.
 */
export function jsonMismatch(actual: unknown, expected: unknown, at: string): string | undefined {
  if (isObject(expected)) {
    if (!isObject(actual)) return `${at}: expected an object, found ${JSON.stringify(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      if (!Object.hasOwn(actual, key)) return `${at}.${key}: missing`;
      const inner = jsonMismatch(actual[key], value, `${at}.${key}`);
      if (inner !== undefined) return inner;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${at}: expected ${JSON.stringify(expected)}, found ${JSON.stringify(actual)}`;
    for (let index = 0; index < expected.length; index++) {
      const inner = jsonMismatch(actual[index], expected[index], `${at}[${index}]`);
      if (inner !== undefined) return inner;
    }
    return undefined;
  }
  return actual === expected ? undefined : `${at}: expected ${JSON.stringify(expected)}, found ${JSON.stringify(actual)}`;
}

/** Latency and error figures, as the collector's /api/map answers them. */
export interface FigureLine {
  calls: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  ratePerSecond?: number;
}

/** The part of the collector's /api/map answer probes read. */
export interface CollectorMap {
  edges: (FigureLine & { source: string; target: string })[];
  red: { services: (FigureLine & { service: string })[]; operations: (FigureLine & { service: string; operation?: string })[] };
}

/** The figure a collector probe reads from a map over `windowMs`; undefined when there were no calls (and it is not a count). */
export function collectorFigure(probe: CollectorProbeSpec, map: CollectorMap, windowMs: number): number | undefined {
  let line: FigureLine | undefined;
  if (probe.edge) {
    const { source, target } = probe.edge;
    line = map.edges.find((edge) => edge.source === source && edge.target === target);
  } else if (probe.operation !== undefined) {
    line = map.red.operations.find((op) => op.service === probe.service && op.operation === probe.operation);
  } else {
    line = map.red.services.find((service) => service.service === probe.service);
  }
  const calls = line?.calls ?? 0;
  switch (probe.query) {
    case 'calls':
      return calls;
    case 'rate':
      return line?.ratePerSecond ?? calls / Math.max(windowMs / 1000, 0.001);
    case 'error_rate':
      return line && calls > 0 ? line.errorRate : undefined;
    case 'p50':
      return line && calls > 0 ? line.p50Ms : undefined;
    case 'p95':
      return line && calls > 0 ? line.p95Ms : undefined;
    case 'p99':
      return line && calls > 0 ? line.p99Ms : undefined;
  }
}

/** The figure against `below`/`above`; no calls at all cannot show a steady state, so it does not hold. */
export function checkCollector(probe: CollectorProbeSpec, figure: number | undefined): Check {
  const bounds = [probe.above !== undefined ? `> ${probe.above}` : '', probe.below !== undefined ? `< ${probe.below}` : ''].filter(Boolean).join(' and ');
  const unit = probe.query.startsWith('p') ? ' ms' : probe.query === 'rate' ? '/s' : '';
  const expected = `${probe.query} ${bounds}${unit}`;
  if (figure === undefined) return { ok: false, value: null, expected, detail: `no calls of ${probe.edge ? `${probe.edge.source} -> ${probe.edge.target}` : probe.service ?? ''} in the last ${probe.window}` };
  const value = Math.round(figure * 1e6) / 1e6;
  if (probe.below !== undefined && !(figure < probe.below)) return { ok: false, value, expected, detail: `${value}${unit} is not below ${probe.below}${unit}` };
  if (probe.above !== undefined && !(figure > probe.above)) return { ok: false, value, expected, detail: `${value}${unit} is not above ${probe.above}${unit}` };
  return { ok: true, value, expected };
}

/** What a command run got: its exit code and output, or a failure to run it. */
export type CommandOutcome = { exitCode: number; stdout: string } | { error: string };

/** Exit code and output. */
export function checkCommand(expect: CommandProbeSpec['expect'], outcome: CommandOutcome): Check {
  const expected = [`exit code ${expect.exitCode}`, ...(expect.stdoutContains !== undefined ? [`stdout contains ${JSON.stringify(expect.stdoutContains)}`] : [])].join(', ');
  if ('error' in outcome) return { ok: false, value: null, expected, detail: outcome.error };
  const value = `exit ${outcome.exitCode} ${excerpt(outcome.stdout)}`.trim();
  if (outcome.exitCode !== expect.exitCode) return { ok: false, value, expected, detail: `exit code ${outcome.exitCode}` };
  if (expect.stdoutContains !== undefined && !outcome.stdout.includes(expect.stdoutContains)) {
    return { ok: false, value, expected, detail: `stdout does not contain ${JSON.stringify(expect.stdoutContains)}` };
  }
  return { ok: true, value, expected };
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT ? `${flat.slice(0, EXCERPT)}…` : flat;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
