/** Stacks with test suites for the test-domain unit tests. */
import type { ServiceSpec, Stack, TestSuiteSpec } from '../../../src/spec/types.js';
import type { NeededService, RunImage, SuiteRun, TestPlanInput, TestResult } from '../../../src/testing/index.js';
import { imageRequestOf } from '../../../src/testing/index.js';
import { service, stack } from '../../support/stack-factory.js';

/** A resolved suite with the loader's defaults, overridden by `fields`. */
export function suite(name: string, fields: Partial<TestSuiteSpec> = {}): TestSuiteSpec {
  return { name, command: ['npm', 'test'], needs: [], environment: {}, timeout: '10m', after: [], matrix: {}, ...fields };
}

/** A service with the given suites. */
export function tested(name: string, suites: TestSuiteSpec[], fields: Partial<ServiceSpec> = {}): ServiceSpec {
  return service(name, { ...fields, flotilla: { tests: Object.fromEntries(suites.map((s) => [s.name, s])) } });
}

const build = { context: '/work/demo/orders', dockerfile: 'Dockerfile', args: { BASE: 'bookworm' }, labels: {} };

/**
 * The shop with tests: orders (built) has lint, unit over NODE_VERSION 18 and 20, and integration
 * after unit needing db; gateway has e2e after orders:integration, needing itself and orders.
 */
export function testedShop(): Stack {
  return stack(
    [
      service('db', { image: 'postgres:15' }),
      tested(
        'orders',
        [
          suite('lint', { command: ['npm', 'run', 'lint'] }),
          suite('unit', { target: 'test', matrix: { NODE_VERSION: ['18', '20'] }, junit: '/reports/junit.xml' }),
          suite('integration', { needs: ['db'], after: ['orders:unit'], environment: { DATABASE_URL: 'postgres://db/test' } }),
        ],
        { image: 'demo-orders', build, environment: { LOG_LEVEL: 'info' } },
      ),
      tested('gateway', [suite('e2e', { image: 'curlimages/curl:8.8.0', command: ['sh', '/e2e.sh'], needs: ['gateway', 'orders'], after: ['orders:integration'] })]),
    ],
    { disabledServices: ['jobs'] },
  );
}

/** What the caller would find on an Engine where every image is present: identities derived from the request. */
export function resolveAll(target: Stack, runs: readonly SuiteRun[], overrides: Record<string, RunImage> = {}): Pick<TestPlanInput, 'images' | 'needs'> {
  const images = new Map<string, RunImage>();
  const needs = new Map<string, NeededService[]>();
  for (const run of runs) {
    const request = imageRequestOf(target, run);
    const image: RunImage =
      request.kind === 'reference'
        ? { reference: request.reference, id: `sha256:${request.reference}`, identity: `sha256:${request.reference}` }
        : { reference: `demo-${run.service}:fl-${run.id}`, identity: `build:${run.id}`, build: { ...(request.target === undefined ? {} : { target: request.target }), args: request.args } };
    images.set(run.id, overrides[run.id] ?? image);
    needs.set(run.id, (target.services[run.service]?.flotilla.tests[run.suite]?.needs ?? []).map((need) => ({ service: need, identity: `${need}@1` })));
  }
  return { images, needs };
}

/** A passing result of a run at `version`. */
export function passedResult(run: SuiteRun, version: string, finishedAt = '2026-05-01T10:00:00.000Z'): TestResult {
  return { version, project: 'demo', runId: run.id, service: run.service, suite: run.suite, cell: run.cell, imageId: 'sha256:img', status: 'passed', durationMs: 1200, finishedAt };
}
