import { describe, expect, it } from 'vitest';
import { conditionStatus } from '../../../src/deploy/conditions.js';
import { execute } from '../../../src/deploy/execute.js';
import { observe } from '../../../src/deploy/observe.js';
import { planDown, planRestart, planStart, planStop } from '../../../src/deploy/plan-lifecycle.js';
import { planText } from '../../../src/deploy/plan-text.js';
import { planUp } from '../../../src/deploy/plan-up.js';
import type { ObservedContainer } from '../../../src/runtime/driver.js';
import { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';
import { shop } from '../../support/stack-factory.js';

async function runningShop(): Promise<FakeDriver> {
  const driver = new FakeDriver();
  for (const ref of ['postgres:15', 'inventory:latest', 'orders:latest', 'gateway:latest']) driver.addImage(ref);
  const observation = await observe(driver, shop(), []);
  const plan = planUp(shop(), observation, { services: [], forceRecreate: false, noRecreate: false, removeOrphans: false, build: false });
  await execute(plan, { driver, stack: shop(), images: observation.images, extraLabels: {}, onProgress: () => undefined });
  return driver;
}

describe('planDown', () => {
  it('removes dependents first, then networks; volumes only with -v', async () => {
    const driver = await runningShop();
    const state = await driver.observe('demo');
    expect(planText(planDown(shop(), state, { volumes: false, removeOrphans: false }))).toBe(
      [
        'project demo:',
        '  remove   container demo-gateway-1 (down)',
        '  remove   container demo-orders-1 (down)',
        '  remove   container demo-db-1 (down)',
        '  remove   container demo-inventory-1 (down)',
        '  remove   network demo_default (down)',
        '',
      ].join('\n'),
    );
    expect(planText(planDown(shop(), state, { volumes: true, removeOrphans: false }))).toContain('remove   volume demo_pgdata (--volumes)');
  });

  it('leaves nothing behind when carried out, and then has nothing to do', async () => {
    const driver = await runningShop();
    const plan = planDown(shop(), await driver.observe('demo'), { volumes: true, removeOrphans: false });
    await execute(plan, { driver, stack: shop(), images: {}, extraLabels: {}, onProgress: () => undefined });
    expect([driver.containers.size, driver.networks.size, driver.volumes.size]).toEqual([0, 0, 0]);
    expect(planText(planDown(shop(), await driver.observe('demo'), { volumes: true, removeOrphans: false }))).toBe('project demo: nothing to do\n');
  });

  it('removes orphans first with --remove-orphans, and only reports them otherwise', async () => {
    const driver = await runningShop();
    const smaller = shop();
    delete smaller.services['gateway'];
    const state = await driver.observe('demo');
    expect(planDown(smaller, state, { volumes: false, removeOrphans: false }).orphans).toEqual(['demo-gateway-1']);
    expect(planText(planDown(smaller, state, { volumes: false, removeOrphans: true })).split('\n')[1]).toBe('  remove   container demo-gateway-1 (orphan)');
  });
});

describe('planStop, planStart, planRestart', () => {
  it('stops dependents first and starts dependencies first with their waits', async () => {
    const driver = await runningShop();
    const stop = planStop(shop(), await driver.observe('demo'), []);
    expect(planText(stop).split('\n').slice(1, 3)).toEqual(['  stop     container demo-gateway-1 (stop)', '  stop     container demo-orders-1 (stop)']);
    await execute(stop, { driver, stack: shop(), images: {}, extraLabels: {}, onProgress: () => undefined });
    expect(planText(planStart(shop(), await driver.observe('demo'), ['orders']))).toBe(
      'project demo:\n  start    container demo-orders-1 (exited) after db healthy, inventory healthy\n',
    );
    expect(planText(planStop(shop(), await driver.observe('demo'), []))).toBe('project demo: nothing to do\n');
  });

  it('restarts only the named services', async () => {
    const driver = await runningShop();
    expect(planText(planRestart(shop(), await driver.observe('demo'), ['db']))).toBe('project demo:\n  restart  container demo-db-1 (restart)\n');
  });
});

describe('conditionStatus', () => {
  const base: ObservedContainer = { id: 'c', name: 'c', project: 'p', service: 's', replica: 1, configHash: 'h', imageId: 'i', state: 'running', exitCode: 0, labels: {}, ports: [] };

  it.each([
    ['running, healthy', { health: 'healthy' as const }, 'service_healthy', { met: true }],
    ['running, starting', { health: 'starting' as const }, 'service_healthy', { met: false }],
    ['unhealthy', { health: 'unhealthy' as const }, 'service_healthy', { met: false, failed: 'is unhealthy' }],
    ['exited while waiting for health', { state: 'exited' as const, exitCode: 1, health: 'starting' as const }, 'service_healthy', { met: false, failed: 'exited with code 1' }],
    ['completed', { state: 'exited' as const, exitCode: 0 }, 'service_completed_successfully', { met: true }],
    ['failed job', { state: 'exited' as const, exitCode: 2 }, 'service_completed_successfully', { met: false, failed: 'exited with code 2' }],
    ['job still running', {}, 'service_completed_successfully', { met: false }],
    ['started', {}, 'service_started', { met: true }],
    ['ready without healthcheck', {}, 'ready', { met: true }],
    ['ready waits for health', { health: 'starting' as const }, 'ready', { met: false }],
    ['ready fails when it exited', { state: 'exited' as const, exitCode: 0 }, 'ready', { met: false, failed: 'exited with code 0' }],
  ] as const)('%s', (_name, fields, condition, expected) => {
    expect(conditionStatus({ ...base, ...fields }, condition, false)).toEqual(expected);
  });

  it('treats a completed job as ready', () => {
    expect(conditionStatus({ ...base, state: 'exited', exitCode: 0 }, 'ready', true)).toEqual({ met: true });
  });
});
