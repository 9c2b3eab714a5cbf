/**
 * Which services share a mesh proxy, over runs: the layout sticks (a service joining never moves the
 * others), is decided on the images as pulled, keeps names apart, and dependents wait for a proxy
 * being replaced; `start` brings stopped proxies back.
 */
import { describe, expect, it } from 'vitest';
import { execute } from '../../../src/deploy/execute.js';
import type { MeshImageSource } from '../../../src/deploy/mesh-image.js';
import { observe } from '../../../src/deploy/observe.js';
import { planStart, planStop } from '../../../src/deploy/plan-lifecycle.js';
import { planText } from '../../../src/deploy/plan-text.js';
import { planUp, type UpOptions } from '../../../src/deploy/plan-up.js';
import { up } from '../../../src/deploy/up.js';
import { parseMeshProxyConfig } from '../../../src/mesh/proxy-config.js';
import { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';
import { Label } from '../../../src/runtime/labels.js';
import type { ServiceSpec, Stack } from '../../../src/spec/types.js';
import { healthy, service, stack } from '../../support/stack-factory.js';

const defaults: UpOptions = { services: [], forceRecreate: false, noRecreate: false, removeOrphans: false, build: false };
const TAG = 'flotilla-mesh:0.0.0-test';
const meshImage: MeshImageSource = { tag: TAG, build: (driver, labels) => driver.buildImage({ context: '/bundle', entries: [], dockerfile: 'Dockerfile', args: {}, labels, tags: [TAG] }) };
const meshed = (services: ServiceSpec[]): Stack => stack(services, { flotilla: { waitTimeoutSeconds: 3, telemetry: { enabled: false }, mesh: true } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function planOn(driver: FakeDriver, target: Stack, options: Partial<UpOptions> = {}) {
  return planUp(target, await observe(driver, target, options.services ?? [], { meshImage }), { ...defaults, ...options });
}

async function upOn(driver: FakeDriver, target: Stack, options: Partial<UpOptions> = {}) {
  const result = await up({ driver, stack: target, options: { ...defaults, ...options }, wait: false, dryRun: false, extraLabels: {}, onProgress: () => undefined, recordBuild: () => undefined, meshImage });
  expect(result.failures).toEqual([]);
  return result;
}

/** Each proxy container → the services its label names, and its aliases. */
function layout(driver: FakeDriver): Record<string, { services: string; aliases: string[] }> {
  const proxies = [...driver.containers.values()].filter((container) => container.labels[Label.mesh] === 'proxy');
  return Object.fromEntries(
    proxies.map((container) => [container.name, { services: container.labels[Label.meshServices] ?? '', aliases: driver.attachments.get(container.id)?.flatMap((attachment) => attachment.aliases) ?? [] }]),
  );
}

function fake(): FakeDriver {
  const driver = new FakeDriver();
  driver.addImage('postgres:15', 'sha256:pg15', { exposedPorts: ['5432/tcp'] });
  driver.addImage('web:latest', 'sha256:web', { exposedPorts: ['8080/tcp'] });
  return driver;
}

describe('the mesh layout', () => {
  it('keeps each service with its proxy when one joins: a clashing TCP port takes a new proxy, and `up` of it alone leaves the others be', async () => {
    const driver = fake();
    const first = meshed([service('b', { image: 'postgres:15' }), service('w', { image: 'web:latest' })]);
    await upOn(driver, first);
    expect(layout(driver)).toEqual({ 'demo-flotilla-mesh-1': { services: 'b,w', aliases: ['b', 'w'] } });
    // `a` sorts before `b`: laid out afresh, it would have taken b's place in the first proxy.
    const grown = meshed([service('a', { image: 'postgres:15' }), ...Object.values(first.services)]);
    expect(planText(await planOn(driver, grown, { services: ['a'] }))).toBe(['project demo:', '  create   container demo-flotilla-mesh-2 (missing)', '  create   container demo-a-1 (missing)', ''].join('\n'));
    await upOn(driver, grown, { services: ['a'] });
    expect(layout(driver)).toEqual({ 'demo-flotilla-mesh-1': { services: 'b,w', aliases: ['b', 'w'] }, 'demo-flotilla-mesh-2': { services: 'a', aliases: ['a'] } });
    expect(planText(await planOn(driver, grown))).toBe('project demo: nothing to do\n');
  });

  it('puts two services that answer to one name in different proxies', async () => {
    const driver = fake();
    const target = meshed([service('api', { image: 'web:latest', networks: { default: { aliases: ['backend'] } } }), service('backend', { image: 'web:latest' })]);
    await upOn(driver, target);
    expect(layout(driver)).toEqual({
      'demo-flotilla-mesh-1': { services: 'api', aliases: ['api', 'backend'] },
      'demo-flotilla-mesh-2': { services: 'backend', aliases: ['backend'] },
    });
  });

  it('lays out the proxies on the images as pulled: two databases on 5432 get a proxy each, with configs the proxy takes', async () => {
    const driver = new FakeDriver();
    const pull = driver.pullImage.bind(driver);
    driver.pullImage = async (reference: string) => {
      await pull(reference);
      driver.addImage(reference, `sha256:${reference.replace(/\W/g, '')}`, { exposedPorts: ['5432/tcp'] });
      return (await driver.inspectImage(reference))!;
    };
    const target = meshed([service('db1', { image: 'postgres:15' }), service('db2', { image: 'postgres:16' })]);
    // Planned before the pull, the images' ports are unknown: one proxy is the guess.
    expect(planText(await planOn(driver, target))).toContain('create   container demo-flotilla-mesh-1 (missing)');
    const result = await upOn(driver, target);
    expect(planText(result.plan)).toContain('create   container demo-flotilla-mesh-2 (missing)');
    expect(layout(driver)).toEqual({ 'demo-flotilla-mesh-1': { services: 'db1', aliases: ['db1'] }, 'demo-flotilla-mesh-2': { services: 'db2', aliases: ['db2'] } });
    for (const container of driver.containers.values()) {
      if (container.labels[Label.mesh] === 'proxy') expect(() => parseMeshProxyConfig(JSON.parse(driver.environments.get(container.id)?.['FLOTILLA_MESH_CONFIG'] ?? '{}'))).not.toThrow();
    }
    expect(planText(await planOn(driver, target))).toBe('project demo: nothing to do\n');
  });

  it('recreates a proxy whose services changed even with --no-recreate: a service left out would have no name', async () => {
    const driver = fake();
    const one = meshed([service('w', { image: 'web:latest' })]);
    await upOn(driver, one);
    const two = meshed([service('w', { image: 'web:latest' }), service('x', { image: 'web:latest' })]);
    expect(planText(await planOn(driver, two, { noRecreate: true }))).toContain('recreate container demo-flotilla-mesh-1 (its services changed)');
  });

  it('makes a dependent wait while its dependency’s proxy is replaced, not go ahead on the old one nor fail on the gap', async () => {
    const driver = fake();
    const target = (aliases: string[], version: string): Stack =>
      meshed([
        service('db', { image: 'postgres:15', healthcheck: healthy, networks: { default: { aliases } } }),
        service('api', { image: 'web:latest', healthcheck: healthy, environment: { VERSION: version }, dependsOn: { db: { condition: 'service_healthy', restart: false, required: true } } }),
      ]);
    await upOn(driver, target([], '1'));
    // A real stop takes a while: the proxy's, here, longer than the replica's.
    const stop = driver.stopContainer.bind(driver);
    driver.stopContainer = async (id: string) => {
      if ((await driver.inspectContainer(id))?.name.includes('flotilla-mesh')) await sleep(300);
      return stop(id);
    };
    driver.calls.length = 0;
    await upOn(driver, target(['database'], '2'));
    expect(driver.calls.indexOf('start container demo-flotilla-mesh-1')).toBeGreaterThanOrEqual(0);
    expect(driver.calls.indexOf('start container demo-flotilla-mesh-1')).toBeLessThan(driver.calls.indexOf('create container demo-api-1'));
  });

  it('starts the stopped proxies on `start`, even of one service, before its dependents wait for them', async () => {
    const driver = fake();
    const target = meshed([
      service('db', { image: 'postgres:15', healthcheck: healthy }),
      service('web', { image: 'web:latest', dependsOn: { db: { condition: 'service_healthy', restart: false, required: true } } }),
    ]);
    await upOn(driver, target);
    await execute(planStop(target, await driver.observe('demo'), []), { driver, stack: target, images: {}, extraLabels: {}, onProgress: () => undefined });
    expect([...driver.containers.values()].every((container) => container.state === 'exited')).toBe(true);
    const plan = planStart(target, await driver.observe('demo'), ['db', 'web']);
    expect(planText(plan)).toContain('start    container demo-flotilla-mesh-1 (exited)');
    const result = await execute(plan, { driver, stack: target, images: {}, extraLabels: {}, onProgress: () => undefined });
    expect(result.failures).toEqual([]);
    expect([...driver.containers.values()].every((container) => container.state === 'running')).toBe(true);
  });
});
