/** The one mesh API client: chaos names a service's proxy `<project>.<service>`, so the same service in another project is never touched. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createMeshClient, faultClient } from '../../../src/chaos/mesh-client.js';
import { driverDiscovery } from '../../../src/mesh/control-plane-discovery.js';
import { startControlPlane, type StartedControlPlane } from '../../../src/mesh/control-plane.js';
import { fakeMeshDriver, startFakeContainer, type FakeContainer } from '../mesh/control-plane-helpers.js';
import { closeAll, startEchoServer } from '../mesh/net-helpers.js';

let shop: FakeContainer;
let blog: FakeContainer;
let plane: StartedControlPlane;

beforeEach(async () => {
  const echo = await startEchoServer();
  shop = await startFakeContainer('shop', 'api', [{ name: 'api', listen: '127.0.0.1:0', upstream: echo.address }]);
  blog = await startFakeContainer('blog', 'api', [{ name: 'api', listen: '127.0.0.1:0', upstream: echo.address }]);
  plane = await startControlPlane({ port: 0, discovery: driverDiscovery(fakeMeshDriver([shop, blog])) });
});

afterEach(async () => {
  await plane.close();
  await Promise.all([shop.close(), blog.close()]);
  await closeAll();
});

const toxic = { name: 'chaos-x-1', type: 'latency', stream: 'downstream' as const, toxicity: 1, attributes: { latency: 1 } };
const names = (container: FakeContainer): string[] => container.registry.get('api').toxics.list().map((t) => t.name);

describe('faults of a project', () => {
  test('check, add and remove reach that project’s proxy only', async () => {
    blog.registry.get('api').toxics.add({ name: 'chaos-x-1', type: 'latency', attributes: { latency: 1 } });
    const faults = faultClient(createMeshClient(plane.url), 'shop');
    await faults.checkProxy('api');
    await faults.removeToxic('api', 'chaos-x-1');
    await faults.addToxic('api', toxic);
    expect(names(shop)).toEqual(['chaos-x-1']);
    await faults.removeToxic('api', 'chaos-x-1');
    expect(names(shop)).toEqual([]);
    expect(names(blog)).toEqual(['chaos-x-1']);
    await expect(faultClient(createMeshClient(plane.url), 'shop').checkProxy('db')).rejects.toThrow('no meshed service or proxy named "db"');
    await expect(faultClient(createMeshClient(plane.url), 'shop').checkProxy('api', 'http_abort')).rejects.toThrow('http_abort is a fault on HTTP messages, and shop.api is a TCP proxy');
  });

  test('without a project, a name meshed in several projects is refused as ambiguous', async () => {
    await expect(faultClient(createMeshClient(plane.url)).addToxic('api', toxic)).rejects.toThrow('"api" is meshed in several projects (shop, blog)');
    expect([...names(shop), ...names(blog)]).toEqual([]);
  });
});

test('a service with a proxy per port gets the fault on each, and loses it from each', async () => {
  const echo = await startEchoServer();
  const db = await startFakeContainer('shop', 'db', [
    { name: 'db-5432', listen: '127.0.0.1:0', upstream: echo.address },
    { name: 'db-5433', listen: '127.0.0.1:0', upstream: echo.address },
  ]);
  const local = await startControlPlane({ port: 0, discovery: driverDiscovery(fakeMeshDriver([db])) });
  try {
    const faults = faultClient(createMeshClient(local.url), 'shop');
    await faults.checkProxy('db', 'latency');
    await faults.addToxic('db', toxic);
    const onDb = (): string[][] => ['db-5432', 'db-5433'].map((name) => db.registry.get(name).toxics.list().map((t) => t.name));
    expect(onDb()).toEqual([['chaos-x-1'], ['chaos-x-1']]);
    await faults.removeToxic('db', 'chaos-x-1');
    expect(onDb()).toEqual([[], []]);
  } finally {
    await local.close();
    await db.close();
  }
});
