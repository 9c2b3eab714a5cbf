/** The test planner: expansion, ordering, selection, the result cache and --force, compared as plan text. */
import { describe, expect, it } from 'vitest';
import type { Stack } from '../../../src/spec/types.js';
import {
  dependentsOf,
  imageRequestOf,
  planTests,
  runEnvironment,
  runsToExecute,
  selectRuns,
  testPlanText,
  type SuiteRun,
  type TestPlan,
  type TestPlanOptions,
  type TestResult,
} from '../../../src/testing/index.js';
import { service, stack } from '../../support/stack-factory.js';
import { passedResult, resolveAll, suite, tested, testedShop } from './factory.js';

const all: TestPlanOptions = { force: false };

/** Plans `target` with every image present and the given runs (by id) passed before at their current version. */
function plan(target: Stack, options: TestPlanOptions = all, passedIds: readonly string[] = []): TestPlan {
  const runs = selectRuns(target, options);
  const resolved = resolveAll(target, runs);
  const fresh = planTests(target, { ...resolved, passed: () => undefined }, { ...options, force: false });
  const passed = new Map<string, TestResult>();
  for (const run of fresh.runs) if (passedIds.includes(run.id)) passed.set(run.version, passedResult(run, run.version));
  return planTests(target, { ...resolved, passed: (version) => passed.get(version) }, options);
}

const text = (...lines: string[]): string => `${lines.join('\n')}\n`;
const ids = (runs: readonly Pick<SuiteRun, 'id'>[]): string[] => runs.map((run) => run.id);

describe('expansion and order', () => {
  it('expands every suite into runs, each after every cell of the suites it runs after, ties by id', () => {
    expect(testPlanText(plan(testedShop()))).toBe(
      text(
        'project demo: 5 to run',
        '  run    orders:lint                   (no passing result for this version)',
        '  run    orders:unit[NODE_VERSION=18]  (no passing result for this version)',
        '  run    orders:unit[NODE_VERSION=20]  (no passing result for this version)',
        '  run    orders:integration            (no passing result for this version) after orders:unit[NODE_VERSION=18], orders:unit[NODE_VERSION=20]',
        '  run    gateway:e2e                   (no passing result for this version) after orders:integration',
      ),
    );
  });

  it('keeps the runs of one matrix apart: each cell its own run, with its own version', () => {
    const runs = plan(testedShop()).runs.filter((run) => run.suite === 'unit');
    expect(runs.map((run) => run.cell)).toEqual([{ NODE_VERSION: '18' }, { NODE_VERSION: '20' }]);
    expect(new Set(runs.map((run) => run.version)).size).toBe(2);
  });

  it('orders a long chain by after, not by name', () => {
    const target = stack([tested('a', [suite('z1'), suite('y2', { after: ['a:z1'] }), suite('x3', { after: ['a:y2'] })])]);
    expect(ids(plan(target).runs)).toEqual(['a:z1', 'a:y2', 'a:x3']);
  });

  it('says so when nothing is selected', () => {
    expect(testPlanText(plan(stack([service('db')])))).toBe('project demo: no test suites selected\n');
  });
});

describe('selection', () => {
  it('takes the suites of the named services; after orders only runs that are both selected', () => {
    expect(testPlanText(plan(testedShop(), { ...all, services: ['gateway'] }))).toBe(
      text('project demo: 1 to run', '  run    gateway:e2e  (no passing result for this version)'),
    );
  });

  it('takes a suite by name in any service, or by service:suite, without pulling in what it runs after', () => {
    expect(ids(plan(testedShop(), { ...all, suites: ['integration'] }).runs)).toEqual(['orders:integration']);
    expect(ids(plan(testedShop(), { ...all, suites: ['orders:integration', 'gateway:e2e'] }).runs)).toEqual(['orders:integration', 'gateway:e2e']);
    expect(plan(testedShop(), { ...all, suites: ['orders:integration'] }).runs[0]?.after).toEqual([]);
  });

  it('takes one cell by its run id, and keeps the order with the cells selected', () => {
    const chosen = plan(testedShop(), { ...all, suites: ['orders:unit[NODE_VERSION=20]', 'integration'] });
    expect(ids(chosen.runs)).toEqual(['orders:unit[NODE_VERSION=20]', 'orders:integration']);
    expect(chosen.runs[1]?.after).toEqual(['orders:unit[NODE_VERSION=20]']);
  });

  it('intersects services and suites', () => {
    expect(ids(plan(testedShop(), { ...all, services: ['orders'], suites: ['lint', 'unit'] }).runs)).toEqual([
      'orders:lint',
      'orders:unit[NODE_VERSION=18]',
      'orders:unit[NODE_VERSION=20]',
    ]);
  });

  it('refuses names that match nothing, with a suggestion', () => {
    expect(() => selectRuns(testedShop(), { services: ['ordres'] })).toThrow("no such service: 'ordres'; did you mean 'orders'?");
    expect(() => selectRuns(testedShop(), { services: ['jobs'] })).toThrow("service 'jobs' is not enabled");
    expect(() => selectRuns(testedShop(), { suites: ['unti'] })).toThrow("no test suite matches 'unti'; did you mean 'unit'?");
    expect(() => selectRuns(testedShop(), { suites: ['orders:lnt'] })).toThrow("no test suite matches 'orders:lnt'; did you mean 'orders:lint'?");
    expect(() => selectRuns(testedShop(), { services: ['gateway'], suites: ['lint'] })).toThrow(expect.objectContaining({ hint: 'test suites: gateway:e2e' }));
    expect(() => selectRuns(testedShop(), { services: ['db'], suites: ['lint'] })).toThrow(expect.objectContaining({ hint: 'the selected services declare no tests' }));
  });

  it('refuses a selected suite that needs a service not enabled', () => {
    const target = stack([tested('api', [suite('e2e', { needs: ['jobs'] }), suite('unit')])], { disabledServices: ['jobs'] });
    expect(() => selectRuns(target, {})).toThrow(expect.objectContaining({ code: 'USAGE', message: "api:e2e needs service 'jobs', which is not enabled" }));
    expect(ids(selectRuns(target, { suites: ['unit'] }))).toEqual(['api:unit']);
  });
});

describe('the result cache', () => {
  it('skips runs whose version passed before, and runs the others', () => {
    expect(testPlanText(plan(testedShop(), all, ['orders:lint', 'orders:unit[NODE_VERSION=18]']))).toBe(
      text(
        'project demo: 3 to run, 2 cached',
        '  cached orders:lint                   (passed 2026-05-01T10:00:00.000Z)',
        '  cached orders:unit[NODE_VERSION=18]  (passed 2026-05-01T10:00:00.000Z)',
        '  run    orders:unit[NODE_VERSION=20]  (no passing result for this version)',
        '  run    orders:integration            (no passing result for this version) after orders:unit[NODE_VERSION=18], orders:unit[NODE_VERSION=20]',
        '  run    gateway:e2e                   (no passing result for this version) after orders:integration',
      ),
    );
  });

  it('says when there is nothing to run', () => {
    const everything = ['orders:lint', 'orders:unit[NODE_VERSION=18]', 'orders:unit[NODE_VERSION=20]', 'orders:integration', 'gateway:e2e'];
    const cached = plan(testedShop(), all, everything);
    expect(testPlanText(cached).split('\n')[0]).toBe('project demo: nothing to run, 5 cached');
    expect(runsToExecute(cached)).toEqual([]);
    expect(cached.runs[0]?.cached).toMatchObject({ status: 'passed', runId: 'orders:lint' });
  });

  it('misses when the image changed: a new identity is a new version', () => {
    const target = testedShop();
    const runs = selectRuns(target, all);
    const before = planTests(target, { ...resolveAll(target, runs), passed: () => undefined }, all);
    const lint = before.runs.find((run) => run.id === 'orders:lint');
    const passed = new Map(lint ? [[lint.version, passedResult(lint, lint.version)]] : []);
    const rebuilt = resolveAll(target, runs, { 'orders:lint': { reference: 'demo-orders:fl-new', identity: 'build:new', build: { args: {} } } });
    const after = planTests(target, { ...rebuilt, passed: (version) => passed.get(version) }, all);
    expect(planTests(target, { ...resolveAll(target, runs), passed: (version) => passed.get(version) }, all).runs[0]?.cached).toBeDefined();
    expect(after.runs[0]).toMatchObject({ id: 'orders:lint', cause: 'no passing result for this version' });
    expect(after.runs[0]?.cached).toBeUndefined();
  });

  it('never trusts a pass on an image known only by its reference', () => {
    const target = stack([tested('api', [suite('smoke', { image: 'curl:latest' })])]);
    const runs = selectRuns(target, all);
    const resolved = resolveAll(target, runs, { 'api:smoke': { reference: 'curl:latest', identity: 'curl:latest' } });
    const planned = planTests(target, { ...resolved, passed: (version) => passedResult({ id: 'api:smoke', service: 'api', suite: 'smoke', cell: {}, after: [] }, version) }, all);
    expect(testPlanText(planned)).toBe(text('project demo: 1 to run', '  run    api:smoke  (image curl:latest is not present, so its version is not pinned)'));
  });

  it('takes only a passing result as a cache hit, whatever the lookup returns', () => {
    const target = stack([tested('api', [suite('unit')])]);
    const resolved = resolveAll(target, selectRuns(target, all));
    const failed = (version: string): TestResult => ({ ...passedResult({ id: 'api:unit', service: 'api', suite: 'unit', cell: {}, after: [] }, version), status: 'failed' });
    expect(planTests(target, { ...resolved, passed: failed }, all).runs[0]).toMatchObject({ cause: 'no passing result for this version' });
  });

  it('runs everything with force, saying what passed before', () => {
    expect(testPlanText(plan(testedShop(), { force: true, services: ['orders'], suites: ['lint', 'integration'] }, ['orders:lint']))).toBe(
      text('project demo: 2 to run', '  run    orders:integration  (--force)', '  run    orders:lint         (--force; passed 2026-05-01T10:00:00.000Z)'),
    );
  });

  it('refuses a run the caller resolved no image for (a bug in the caller)', () => {
    expect(() => planTests(testedShop(), { images: new Map(), needs: new Map(), passed: () => undefined }, all)).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: 'no image or needed services were resolved for test run orders:lint' }),
    );
  });
});

describe('dependentsOf', () => {
  it('gives every run after a failed one, directly or not, in plan order', () => {
    const planned = plan(testedShop());
    expect(dependentsOf(planned, 'orders:unit[NODE_VERSION=20]')).toEqual(['orders:integration', 'gateway:e2e']);
    expect(dependentsOf(planned, 'orders:integration')).toEqual(['gateway:e2e']);
    expect(dependentsOf(planned, 'orders:lint')).toEqual([]);
  });

  it('stops at a cached run: it passed for this version, so what runs after it still runs', () => {
    const planned = plan(testedShop(), all, ['orders:integration']);
    expect(dependentsOf(planned, 'orders:unit[NODE_VERSION=18]')).toEqual([]);
  });
});

describe('what a run needs', () => {
  const target = testedShop();
  const runs = selectRuns(target, all);
  const run = (id: string): SuiteRun => runs.find((candidate) => candidate.id === id) as SuiteRun;

  it('builds the suite target with the cell values as build args', () => {
    expect(imageRequestOf(target, run('orders:unit[NODE_VERSION=18]'))).toEqual({ kind: 'build', target: 'test', args: { BASE: 'bookworm', NODE_VERSION: '18' } });
  });

  it("builds the service's own build when the suite names no target, and runs a suite image as it is", () => {
    expect(imageRequestOf(target, run('orders:lint'))).toEqual({ kind: 'build', args: { BASE: 'bookworm' } });
    expect(imageRequestOf(target, run('gateway:e2e'))).toEqual({ kind: 'reference', reference: 'curlimages/curl:8.8.0' });
    const plain = stack([tested('db', [suite('check')], { image: 'postgres:15' })]);
    expect(imageRequestOf(plain, selectRuns(plain, all)[0] as SuiteRun)).toEqual({ kind: 'reference', reference: 'postgres:15' });
  });

  it("layers the environment: the service's, the suite's, then the cell's", () => {
    expect(runEnvironment(target, run('orders:integration'))).toEqual({ LOG_LEVEL: 'info', DATABASE_URL: 'postgres://db/test' });
    const overriding = stack([tested('api', [suite('unit', { environment: { MODE: 'suite', NODE_VERSION: 'suite' }, matrix: { NODE_VERSION: ['18'] } })], { environment: { MODE: 'service' } })]);
    expect(runEnvironment(overriding, selectRuns(overriding, all)[0] as SuiteRun)).toEqual({ MODE: 'suite', NODE_VERSION: '18' });
  });
});
