/**
 * A service's `x-flotilla.tests` → TestSuiteSpec records. References to other services and
 * suites (`needs`, `after`) are checked against the merged model rather than the resolved
 * services, so they hold whichever service is resolved first, and a suite is found even when its
 * service failed validation or is disabled by a profile.
 */
import { findCycle } from '../dependency-order.js';
import { tryParseDuration } from '../duration.js';
import { nodeAt } from '../issues.js';
import type { RawService } from '../schema/service.js';
import type { RawTestSuite } from '../schema/tests.js';
import { didYouMean } from '../suggest.js';
import type { BuildSpec, TestSuiteSpec } from '../types.js';
import { describeNode, scalarText, type PathSegment, type YNode } from '../yaml-node.js';
import type { ResolveContext } from './context.js';
import { keyValueRecord } from './key-values.js';
import { shellWords } from './shell-words.js';

/** How long a suite may run when it sets no `timeout`. */
export const DEFAULT_TEST_TIMEOUT = '10m';
/** The most runs one suite's matrix may expand to: beyond that it is almost surely a mistake. */
export const MAX_MATRIX_CELLS = 256;

const SUITE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const IMAGE = /^[^\s]+$/;

/** The suites of one service, sorted by name; problems are reported to the context. */
export function resolveTests(service: string, raw: RawService, build: BuildSpec | undefined, context: ResolveContext): Record<string, TestSuiteSpec> {
  const tests = raw['x-flotilla']?.tests;
  const out: Record<string, TestSuiteSpec> = {};
  if (!tests) return out;
  const index = suiteIndex(context.root);
  for (const name of Object.keys(tests).sort()) {
    const suite = tests[name];
    const path: PathSegment[] = ['services', service, 'x-flotilla', 'tests', name];
    if (!SUITE_NAME.test(name)) context.fail(path, `invalid test suite name '${name}': use letters, digits, '.', '_' and '-'`, 'key');
    if (suite) out[name] = resolveSuite({ service, name, build, path, index, context }, suite);
  }
  const cycle = index.cycle;
  // The cycle is found once for the whole model and reported by the service its first suite belongs to.
  if (cycle && cycle.nodes[0]?.startsWith(`${service}:`)) context.fail(cycle.path, `cycle in 'after': ${cycle.nodes.join(' -> ')}`);
  return out;
}

interface SuiteContext {
  service: string;
  name: string;
  build: BuildSpec | undefined;
  path: PathSegment[];
  index: SuiteIndex;
  context: ResolveContext;
}

function resolveSuite(at: SuiteContext, raw: RawTestSuite): TestSuiteSpec {
  const { path, context } = at;
  const spec: TestSuiteSpec = {
    name: at.name,
    command: resolveCommand(raw.command, [...path, 'command'], context),
    needs: resolveNeeds(at, raw.needs ?? []),
    environment: keyValueRecord(raw.environment, [...path, 'environment'], context, 'lookup'),
    timeout: raw.timeout ?? DEFAULT_TEST_TIMEOUT,
    after: resolveAfter(at, raw.after ?? []),
    matrix: resolveMatrix(at, raw.matrix ?? {}),
  };
  if (tryParseDuration(spec.timeout) === 0) context.fail([...path, 'timeout'], `expected a timeout above zero, found '${spec.timeout}'`);
  if (raw.image !== undefined) {
    if (!IMAGE.test(raw.image)) context.fail([...path, 'image'], `expected an image reference like node:20, found ${describeNode(nodeAt(context.root, [...path, 'image']))}`);
    spec.image = raw.image;
  }
  if (raw.target !== undefined) {
    if (raw.image !== undefined) {
      context.fail([...path, 'target'], "'target' and 'image' cannot both be set: 'image' runs that image, 'target' builds a stage of the service's build", 'key');
    } else if (at.build === undefined) {
      context.fail([...path, 'target'], `'target' needs a build section on service '${at.service}'; use 'image' to run the suite in another image`, 'key');
    } else if (raw.target.trim() === '') {
      context.fail([...path, 'target'], 'expected the name of a build stage, found an empty string');
    }
    spec.target = raw.target;
  }
  if (raw.junit !== undefined) spec.junit = absolutePath(raw.junit, [...path, 'junit'], context);
  if (raw.working_dir !== undefined) spec.workingDir = absolutePath(raw.working_dir, [...path, 'working_dir'], context);
  return spec;
}

function resolveCommand(raw: string | string[], path: readonly PathSegment[], context: ResolveContext): string[] {
  let words: string[];
  if (Array.isArray(raw)) {
    words = raw;
  } else {
    const split = shellWords(raw);
    if ('error' in split) {
      context.fail(path, split.error);
      return [];
    }
    words = split.words;
  }
  if (words.length === 0) context.fail(path, `expected a command, found ${Array.isArray(raw) ? 'an empty list' : describeNode(nodeAt(context.root, path))}`);
  return words;
}

/** Needed services exist (a suite may need its own service, e.g. an end-to-end suite against the running service); sorted, without repeats. */
function resolveNeeds(at: SuiteContext, needs: readonly string[]): string[] {
  needs.forEach((need, index) => {
    if (!at.index.suites.has(need)) at.context.fail([...at.path, 'needs', index], `needs undefined service '${need}'${didYouMean(need, at.index.suites.keys())}`);
  });
  return sortedUnique(needs);
}

/** `after` entries as `service:suite`, sorted, without repeats. */
function resolveAfter(at: SuiteContext, after: readonly string[]): string[] {
  const out: string[] = [];
  after.forEach((reference, index) => {
    const where = [...at.path, 'after', index];
    const target = qualify(at.service, reference);
    if (target === undefined) {
      at.context.fail(where, `expected a suite name or service:suite, found ${describeNode(nodeAt(at.context.root, where))}`);
      return;
    }
    const suites = at.index.suites.get(target.service);
    if (suites === undefined) {
      at.context.fail(where, `after refers to undefined service '${target.service}'${didYouMean(target.service, at.index.suites.keys())}`);
    } else if (!suites.has(target.suite)) {
      const written = reference.includes(':') ? [...suites].map((suite) => `${target.service}:${suite}`) : suites;
      const noun = suites.size === 0 ? ` (service '${target.service}' declares no tests)` : didYouMean(reference, written);
      at.context.fail(where, `after refers to undefined test suite '${reference}'${noun}`);
    } else if (target.service === at.service && target.suite === at.name) {
      at.context.fail(where, `suite '${at.name}' cannot run after itself`);
    } else {
      out.push(`${target.service}:${target.suite}`);
    }
  });
  return sortedUnique(out);
}

function resolveMatrix(at: SuiteContext, matrix: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const where = [...at.path, 'matrix'];
  for (const variable of Object.keys(matrix).sort()) {
    const values = matrix[variable] ?? [];
    if (!ENV_NAME.test(variable)) at.context.fail([...where, variable], `invalid matrix variable '${variable}': use letters, digits and '_', not starting with a digit`, 'key');
    if (values.length === 0) at.context.fail([...where, variable], 'expected a non-empty list of values, found an empty list');
    const seen = new Set<string>();
    values.forEach((value, index) => {
      if (seen.has(value)) at.context.fail([...where, variable, index], `value '${value}' is listed twice for ${variable}`);
      seen.add(value);
      const node = nodeAt(at.context.root, [...where, variable, index]);
      // YAML reads 3.10 as 3.1: a version written unquoted silently loses its digits.
      if (node?.kind === 'scalar' && typeof node.value === 'number' && !Number.isInteger(node.value)) {
        at.context.warn([...where, variable, index], `the number ${value} is used as '${value}'; quote it if it was written otherwise (YAML reads 3.10 as 3.1)`);
      }
    });
    out[variable] = values;
  }
  const sizes = Object.values(out).map((values) => values.length);
  const cells = sizes.reduce((product, size) => product * size, 1);
  if (cells > MAX_MATRIX_CELLS) {
    const shape = Object.entries(out).map(([variable, values]) => `${variable} ${values.length}`).join(' × ');
    at.context.fail(where, `the matrix expands to ${cells} runs (${shape}), more than ${MAX_MATRIX_CELLS}; drop values or split the suite`, 'key');
  }
  return out;
}

function absolutePath(value: string, path: readonly PathSegment[], context: ResolveContext): string {
  if (!value.startsWith('/')) context.fail(path, `expected an absolute path inside the container, found ${describeNode(nodeAt(context.root, path))}`);
  return value;
}

/** `unit` → this service's suite; `orders:unit` → another's. Undefined when malformed. */
function qualify(service: string, reference: string): { service: string; suite: string } | undefined {
  const parts = reference.split(':');
  if (parts.length === 1 && reference !== '') return { service, suite: reference };
  const [owner = '', suite = ''] = parts;
  return parts.length === 2 && owner !== '' && suite !== '' ? { service: owner, suite } : undefined;
}

function sortedUnique(items: readonly string[]): string[] {
  return [...new Set(items)].sort();
}

/** Every service of the model with its suite names, and the first `after` cycle among all suites. */
interface SuiteIndex {
  suites: Map<string, Set<string>>;
  cycle?: { nodes: string[]; path: PathSegment[] };
}

// One index per merged model, shared by the resolution of each of its services.
const indexes = new WeakMap<YNode, SuiteIndex>();

function suiteIndex(root: YNode): SuiteIndex {
  const cached = indexes.get(root);
  if (cached) return cached;
  const suites = new Map<string, Set<string>>();
  const afterOf = new Map<string, { target: string; path: PathSegment[] }[]>();
  const services = nodeAt(root, ['services']);
  for (const [service, entry] of services?.kind === 'map' ? services.entries : []) {
    const tests = nodeAt(entry.value, ['x-flotilla', 'tests']);
    const names = tests?.kind === 'map' ? [...tests.entries.keys()] : [];
    suites.set(service, new Set(names));
    for (const name of names) {
      const after = nodeAt(tests, [name, 'after']);
      const edges = (after?.kind === 'seq' ? after.items : []).flatMap((item, index) => {
        const target = qualify(service, scalarText(item) ?? '');
        const path = ['services', service, 'x-flotilla', 'tests', name, 'after', index];
        const node = target && `${target.service}:${target.suite}`;
        // A suite after itself is reported as such, not as a cycle.
        return node && node !== `${service}:${name}` ? [{ target: node, path }] : [];
      });
      afterOf.set(`${service}:${name}`, edges);
    }
  }
  const edges = Object.fromEntries([...afterOf].map(([node, list]) => [node, list.map((edge) => edge.target)]));
  const index: SuiteIndex = { suites };
  const nodes = findCycle(edges);
  const [first = '', second = ''] = nodes ?? [];
  const path = afterOf.get(first)?.find((edge) => edge.target === second)?.path;
  if (nodes && path) index.cycle = { nodes, path };
  indexes.set(root, index);
  return index;
}
