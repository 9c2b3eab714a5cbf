/**
 * Experiments end to end against fakes on real sockets: a service whose answers a fault changes,
 * a Toxiproxy-like mesh API, the collector's query API and the in-memory driver. Whatever the
 * verdict, every fault added is removed and the rollbacks run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createContainerActions,
  createMeshClient,
  createProbeRunner,
  exitCodeFor,
  faultClient,
  runExperiment,
  sendHttp,
  systemClock,
  type ChaosEvent,
  type ExperimentReport,
} from '../../../src/chaos/index.js';
import type { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';
import type { ExperimentSpec } from '../../../src/spec/types.js';
import { experimentFrom } from './experiment.js';
import { runningProject, startCollector, startMesh, startService, type FakeCollector, type FakeMesh, type FakeService } from './fakes.js';

let api: FakeService;
let mesh: FakeMesh;
let collector: FakeCollector;
let driver: FakeDriver;

beforeEach(async () => {
  api = await startService();
  mesh = await startMesh(['api'], { api });
  collector = await startCollector({
    edges: [{ source: 'gateway', target: 'api', calls: 40, errors: 0, errorRate: 0, p50Ms: 3, p95Ms: 8, p99Ms: 12 }],
    red: { services: [{ service: 'api', calls: 120, errors: 1, errorRate: 0.0083, p50Ms: 2, p95Ms: 6, p99Ms: 9, ratePerSecond: 2 }], operations: [] },
  });
  driver = await runningProject({ api: 2, db: 1 });
  driver.execHandler = (container, command) => (container.service === 'db' && command[0] === 'pg_isready' ? { exitCode: 0, stdout: 'accepting connections\n' } : { exitCode: 1 });
});

afterEach(async () => {
  await Promise.all([api.close(), mesh.close(), collector.close()]);
});

async function run(experiment: ExperimentSpec, signal?: AbortSignal): Promise<{ report: ExperimentReport; events: ChaosEvent[] }> {
  const containers = createContainerActions(driver, 'shop');
  const events: ChaosEvent[] = [];
  const report = await runExperiment(
    experiment,
    {
      clock: systemClock,
      probes: createProbeRunner({ clock: systemClock, send: sendHttp, collector: () => collector.client, containers }),
      faults: faultClient(createMeshClient(mesh.url)),
      containers,
      send: sendHttp,
    },
    { onEvent: (event) => events.push(event), ...(signal && { signal }) },
  );
  return { report, events };
}

const hypothesis = () => `
    hypothesis:
      - name: api answers
        http: { url: "${api.url}/stock", expect: { status: 200, json: { ok: true, stock: { apples: 3 } } } }
      - collector: { query: error_rate, service: api, window: 1m, below: 0.05 }
      - collector: { query: p99, edge: { source: gateway, target: api }, below: 250 }
      - command: { service: db, run: pg_isready -q, expect: { stdout_contains: accepting } }`;

describe('an experiment whose hypothesis survives the method', () => {
  it('passes: faults and pauses applied under load, then undone, the hypothesis holding before and after', async () => {
    const experiment = await experimentFrom(`
recovers:
    description: api recovers once the fault is gone
${hypothesis()}
    load: { http: { url: "${api.url}/stock" }, rate: 50, duration: 400ms, concurrency: 4 }
    method:
      - fault: { service: api, toxic: { type: http_abort, stream: upstream, attributes: { status: 503 } }, duration: 150ms }
      - container: { service: api, replica: 1, action: pause, duration: 100ms }
`);
    const { report, events } = await run(experiment);

    expect(report.verdict).toBe('passed');
    expect(exitCodeFor(report)).toBe(0);
    expect(report.hypothesis.before.map((probe) => [probe.name, probe.ok, probe.value])).toEqual([
      ['api answers', true, '200 {"ok":true,"stock":{"apples":3}}'],
      ['error_rate of api over 1m', true, 0.0083],
      ['p99 of gateway -> api over 1m', true, 12],
      ['command in db: pg_isready -q', true, 'exit 0 accepting connections'],
    ]);
    expect(report.hypothesis.after.every((probe) => probe.ok)).toBe(true);
    // The fault was in place while the load ran, and gone before it ended.
    expect(report.load?.statuses['503']).toBeGreaterThan(0);
    expect(report.load?.statuses['200']).toBeGreaterThan(0);
    expect(report.load?.sent).toBeLessThanOrEqual(20);
    expect(report.method.map((step) => [step.step, step.status, step.targets])).toEqual([
      ['method[0]', 'reverted', ['proxy api']],
      ['method[1]', 'reverted', ['shop-api-1']],
    ]);
    expect(report.method.every((step) => step.appliedAt !== undefined && step.revertedAt !== undefined && step.revertedAt >= step.appliedAt)).toBe(true);
    expect(mesh.calls.filter((call) => !call.startsWith('GET'))).toEqual(['DELETE /proxies/api/toxics/chaos-recovers-1', 'POST /proxies/api/toxics', 'DELETE /proxies/api/toxics/chaos-recovers-1']);
    expect(mesh.toxics.get('api')?.size).toBe(0);
    expect(driver.calls).toEqual(['exec shop-db-1 pg_isready -q', 'pause container shop-api-1', 'unpause container shop-api-1', 'exec shop-db-1 pg_isready -q']);
    // The collector was asked for an exact one-minute window.
    const [query] = collector.queries;
    expect(Number(query?.get('until')) - Number(query?.get('since'))).toBe(60_000);
    expect(events.filter((event) => event.type === 'phase').map((event) => event.type === 'phase' && event.phase)).toEqual(['preflight', 'before', 'method', 'after', 'rollback']);
  });
});

describe('an experiment whose hypothesis breaks', () => {
  it('fails, removes the fault left until the end, and runs the rollbacks', async () => {
    const experiment = await experimentFrom(`
breaks:
${hypothesis()}
    method:
      - fault: { service: api, toxic: { name: abort-all, type: http_abort, attributes: { status: 503 } } }
    rollbacks:
      - container: { service: api, action: restart }
`);
    const { report } = await run(experiment);

    expect(report.verdict).toBe('failed');
    expect(exitCodeFor(report)).toBe(1);
    const after = report.hypothesis.after.find((probe) => probe.name === 'api answers');
    expect(after).toMatchObject({ ok: false, value: '503 {"ok":false}', expected: 'status 200, JSON contains {"ok":true,"stock":{"apples":3}}', detail: 'status 503' });
    expect(report.reason).toBe('the hypothesis held before the method but not after it (api answers)');
    expect(report.rollbacks.map((step) => [step.step, step.status, step.description])).toEqual([
      ['undo method[0]', 'done', 'undo: fault http_abort (status=503) downstream of api as abort-all until the end'],
      ['rollbacks[0]', 'done', 'restart api'],
    ]);
    expect(mesh.toxics.get('api')?.size).toBe(0);
    expect(api.faultStatus).toBeUndefined();
    expect(driver.calls.filter((call) => call.startsWith('restart'))).toEqual(['restart container shop-api-1', 'restart container shop-api-2']);
  });
});

describe('an experiment that cannot start or finish', () => {
  it('is aborted when the hypothesis does not hold before: nothing is applied, the rollbacks still run', async () => {
    api.faultStatus = 500;
    const experiment = await experimentFrom(`
unsteady:
${hypothesis()}
    load: { http: { url: "${api.url}/stock" }, rate: 50, duration: 1s }
    method:
      - fault: { service: api, toxic: { type: http_delay, attributes: { delay_ms: 100 } } }
      - container: { service: api, action: pause }
    rollbacks:
      - command: { service: db, run: [pg_isready] }
`);
    const { report } = await run(experiment);

    expect(report.verdict).toBe('aborted');
    expect(exitCodeFor(report)).toBe(1);
    expect(report.reason).toBe('the hypothesis did not hold before the method (api answers), so nothing was applied');
    expect(report.method).toEqual([]);
    expect(report.load).toBeUndefined();
    expect(report.hypothesis.after).toEqual([]);
    expect(mesh.calls.some((call) => call.startsWith('POST'))).toBe(false);
    expect(driver.calls.filter((call) => !call.startsWith('exec shop-db-1 pg_isready -q'))).toEqual(['exec shop-db-1 pg_isready']);
    expect(report.rollbacks.map((step) => [step.step, step.status])).toEqual([['rollbacks[0]', 'done']]);
    expect(api.requests).toBe(1);
  });

  it('is aborted when a step fails: what was applied is undone, a fault the mesh refused is removed anyway, the rollbacks run', async () => {
    mesh.refuseAdd = 500;
    const experiment = await experimentFrom(`
refused:
    hypothesis:
      - http: { url: "${api.url}/stock" }
    method:
      - container: { service: api, action: pause }
      - fault: { service: api, at: 20ms, toxic: { name: drop, type: http_drop, toxicity: 0.2, attributes: { mode: reset, path: /orders } } }
      - network: { service: api, at: 40ms, cut: true }
    rollbacks:
      - container: { service: db, action: restart }
      - command: { service: db, run: ["false"] }
`);
    const { report } = await run(experiment);

    expect(report.verdict).toBe('aborted');
    expect(report.reason).toMatch(/^the method could not be applied: method\[1\] \(fault http_drop \(mode=reset path=\/orders\) downstream of api on 20% of requests as drop until the end\): cannot add drop to api: the mesh API answered 500 \(refused by the test\)$/);
    expect(report.method.map((step) => [step.step, step.status])).toEqual([['method[0]', 'reverted'], ['method[1]', 'failed']]);
    // The refused toxic is deleted anyway (it might have been added); the network was never cut.
    expect(mesh.calls.filter((call) => !call.startsWith('GET'))).toEqual(['DELETE /proxies/api/toxics/drop', 'POST /proxies/api/toxics', 'DELETE /proxies/api/toxics/drop']);
    expect(driver.calls).toEqual([
      'pause container shop-api-1',
      'pause container shop-api-2',
      'unpause container shop-api-1',
      'unpause container shop-api-2',
      'restart container shop-db-1',
      'exec shop-db-1 false',
    ]);
    expect(report.errors).toEqual([report.reason.replace('the method could not be applied: ', ''), 'rollbacks[1] (run `false` in db): exit code 1']);
  });

  it('is aborted by Ctrl-C: the load stops, the after-check is skipped, the faults are removed', async () => {
    const experiment = await experimentFrom(`
interrupted:
    hypothesis:
      - http: { url: "${api.url}/stock" }
    load: { http: { url: "${api.url}/stock" }, rate: 20, duration: 10s }
    method:
      - fault: { service: api, toxic: { type: http_abort, attributes: { status: 502 } } }
`);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const { report } = await run(experiment, controller.signal);

    expect(report.verdict).toBe('aborted');
    expect(report.reason).toBe('interrupted before the experiment ended');
    expect(report.load?.sent).toBeLessThan(report.load?.planned ?? 0);
    expect(report.hypothesis.after).toEqual([]);
    expect(mesh.toxics.get('api')?.size).toBe(0);
  });

  it('is aborted before anything is checked when a fault names a service the mesh has no proxy for', async () => {
    const experiment = await experimentFrom(`
unmeshed:
    hypothesis:
      - http: { url: "${api.url}/stock" }
    method:
      - fault: { service: db, toxic: { type: reset_peer } }
`);
    const { report } = await run(experiment);

    expect(report.verdict).toBe('aborted');
    expect(report.reason).toBe('the method could not be applied: method[0]: no meshed service or proxy named "db"');
    expect(report.hypothesis.before).toEqual([]);
    expect(api.requests).toBe(0);
  });
});

describe('a network cut', () => {
  it('takes the replica off its networks for a number of the load’s requests, then puts it back with the same aliases', async () => {
    const experiment = await experimentFrom(`
partition:
    hypothesis:
      - http: { url: "${api.url}/stock" }
    load: { http: { url: "${api.url}/stock" }, rate: 100, duration: 300ms }
    method:
      - network: { service: api, replica: 2, cut: true, requests: 5 }
`);
    const before = await driver.containerNetworks([...driver.containers.values()].find((c) => c.name === 'shop-api-2')?.id ?? '');
    const { report } = await run(experiment);

    expect(report.verdict).toBe('passed');
    expect(driver.calls).toEqual(['disconnect container shop-api-2 from shop_default', 'connect container shop-api-2 to shop_default as api']);
    const after = await driver.containerNetworks([...driver.containers.values()].find((c) => c.name === 'shop-api-2')?.id ?? '');
    expect(after).toEqual(before);
    // Reconnected after its 5 requests, not held to the end of the load.
    const [step] = report.method;
    expect(Date.parse(step?.revertedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(step?.appliedAt ?? ''));
  });
});
