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
    await expect(faultClient(createMeshClient(plane.url), 'shop').checkProxy('db')).rejects.toThrow(/cannot find the proxy shop\.db: the mesh API answered 404/);
  });

  test('without a project, a bare name is the mesh’s to resolve (here: ambiguous, so refused)', async () => {
    await expect(faultClient(createMeshClient(plane.url)).addToxic('api', toxic)).rejects.toThrow(/409 \(proxy name is ambiguous\)/);
    expect([...names(shop), ...names(blog)]).toEqual([]);
  });
});
