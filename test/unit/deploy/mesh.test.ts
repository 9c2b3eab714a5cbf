/** `up` with the mesh: proxy containers in front of the meshed services, planned as golden text and carried out on the fake driver. */
import { describe, expect, it } from 'vitest';
import { execute } from '../../../src/deploy/execute.js';
import { meshPorts } from '../../../src/deploy/mesh.js';
import { meshGroups, meshProxyConfig, type MeshImageFacts } from '../../../src/deploy/mesh-groups.js';
import type { MeshImageSource } from '../../../src/deploy/mesh-image.js';
import { MESH_TOKEN_ENV, meshProxyRequest } from '../../../src/deploy/mesh-request.js';
import { MESH_TOKEN_ENV as MESH_TOKEN_ENV_READ } from '../../../src/mesh/api-http.js';
import { driverDiscovery } from '../../../src/mesh/control-plane-discovery.js';
import { observe } from '../../../src/deploy/observe.js';
import { planDown } from '../../../src/deploy/plan-lifecycle.js';
import { planText } from '../../../src/deploy/plan-text.js';
import { planUp, type UpOptions } from '../../../src/deploy/plan-up.js';
import { meshProxyConfigSchema } from '../../../src/mesh/proxy-main.js';
import { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';
import { Label } from '../../../src/runtime/labels.js';
import type { ServiceMeshSettings, Stack } from '../../../src/spec/types.js';
import { healthy, service, stack } from '../../support/stack-factory.js';

const defaults: UpOptions = { services: [], forceRecreate: false, noRecreate: false, removeOrphans: false, build: false };
const TAG = 'flotilla-mesh:0.0.0-test';
const meshImage: MeshImageSource = { tag: TAG, build: (driver, labels) => driver.buildImage({ context: '/bundle', entries: [], dockerfile: 'Dockerfile', args: {}, labels, tags: [TAG] }) };

/** db (postgres, EXPOSE 5432) ← api (EXPOSE 3000, and 9100 for metrics) ← web (publishes 8080); mesh on for the stack. */
function meshed(apiMesh?: false | ServiceMeshSettings, top = true): Stack {
  return stack(
    [
      service('db', { image: 'postgres:15', healthcheck: healthy }),
      service('api', {
        expose: ['9100'],
        healthcheck: healthy,
        dependsOn: { db: { condition: 'service_healthy', restart: false, required: true } },
        flotilla: { tests: {}, ...(apiMesh !== undefined && { mesh: apiMesh }) },
      }),
      service('web', { ports: [{ target: 8080, published: '8080', protocol: 'tcp', mode: 'ingress' }], dependsOn: { api: { condition: 'service_started', restart: false, required: true } } }),
    ],
    { flotilla: { waitTimeoutSeconds: 5, telemetry: { enabled: false }, ...(top && { mesh: true }) } },
  );
}

function fake(): FakeDriver {
  const driver = new FakeDriver();
  driver.addImage('postgres:15', 'sha256:pg', { exposedPorts: ['5432/tcp'] });
  driver.addImage('api:latest', 'sha256:api', { exposedPorts: ['3000/tcp', '53/udp'], labels: { 'org.opencontainers.image.version': 'v1.2.0' } });
  driver.addImage('web:latest', 'sha256:web');
  return driver;
}

async function planOn(driver: FakeDriver, target: Stack, options: Partial<UpOptions> = {}) {
  return planUp(target, await observe(driver, target, [], { meshImage }), { ...defaults, ...options });
}

async function upOn(driver: FakeDriver, target: Stack) {
  const observation = await observe(driver, target, [], { meshImage });
  const plan = planUp(target, observation, defaults);
  const result = await execute(plan, { driver, stack: target, images: observation.images, extraLabels: { 'dev.flotilla.test-run': 'r1' }, meshImage, onProgress: () => undefined });
  expect(result.failures).toEqual([]);
  return plan;
}

function aliasesOf(driver: FakeDriver, name: string): string[] {
  const container = [...driver.containers.values()].find((c) => c.name === name);
  return (container && driver.attachments.get(container.id)?.flatMap((attachment) => attachment.aliases)) ?? [];
}

describe('ports of a meshed service', () => {
  it('are its ports, expose and image EXPOSE (TCP only), plus those named, with the protocol inferred or written', () => {
    const api = service('api', { ports: [{ target: 5432, protocol: 'tcp', mode: 'ingress' }, { target: 53, protocol: 'udp', mode: 'ingress' }], expose: ['8000-8001', '161/udp'] });
    expect(meshPorts(api, { ports: { '7000': 'tcp', '8001': 'tcp' } }, ['3000/tcp', '6379/tcp', '5000/udp'])).toEqual([
      { port: 3000, protocol: 'http' },
      { port: 5432, protocol: 'tcp' },
      { port: 6379, protocol: 'tcp' },
      { port: 7000, protocol: 'tcp' },
      { port: 8000, protocol: 'http' },
      { port: 8001, protocol: 'tcp' },
    ]);
  });
});

const PROXY = 'demo-flotilla-mesh-1';

describe('planUp with the mesh', () => {
  it('builds the proxy image, then creates one proxy for the services on one network, waiting for none of them', async () => {
    expect(planText(await planOn(fake(), meshed()))).toBe(
      [
        'project demo:',
        `  build    image ${TAG} (missing)`,
        '  create   network demo_default (missing)',
        `  create   container ${PROXY} (missing)`,
        '  create   container demo-db-1 (missing)',
        '  create   container demo-api-1 (missing) after db healthy',
        '  create   container demo-web-1 (missing) after api started',
        '',
      ].join('\n'),
    );
  });

  it('gives every service name to the proxy and `<service>-upstream` to the replicas, and has nothing to do on a second run', async () => {
    const driver = fake();
    await upOn(driver, meshed());
    expect(aliasesOf(driver, 'demo-api-1')).toEqual(['api-upstream']);
    expect(aliasesOf(driver, PROXY)).toEqual(['api', 'db', 'web']);
    const proxy = [...driver.containers.values()].find((c) => c.name === PROXY);
    expect(proxy?.labels).toMatchObject({ [Label.project]: 'demo', [Label.service]: 'flotilla-mesh', [Label.mesh]: 'proxy', [Label.meshServices]: 'api,db,web', [Label.image]: TAG, 'dev.flotilla.test-run': 'r1' });
    expect(proxy?.labels[Label.replica]).toBeUndefined();
    expect(driver.images.get(TAG)?.labels).toEqual({ 'dev.flotilla.test-run': 'r1' });
    // The proxy is healthy before a dependent is created: it reaches its dependency through it from the start.
    expect(driver.calls.indexOf(`start container ${PROXY}`)).toBeLessThan(driver.calls.indexOf('create container demo-web-1'));
    expect(planText(await planOn(driver, meshed()))).toBe('project demo: nothing to do\n');
  });

  it('moves the aliases the Compose file gives a meshed service to the proxy, so no caller goes around it; a new alias recreates the proxy only', async () => {
    const withAlias = (aliases: string[]): Stack => {
      const target = meshed();
      const api = target.services['api']!;
      target.services['api'] = { ...api, networks: { default: { ...api.networks['default']!, aliases } } };
      return target;
    };
    const driver = fake();
    await upOn(driver, withAlias(['orders-api']));
    expect(aliasesOf(driver, 'demo-api-1')).toEqual(['api-upstream']);
    expect(aliasesOf(driver, PROXY)).toEqual(['api', 'orders-api', 'db', 'web']);
    const plan = planText(await planOn(driver, withAlias(['orders-api', 'api-v2'])));
    expect(plan).toMatch(new RegExp(`recreate container ${PROXY}`));
    expect(plan).not.toMatch(/recreate container demo-api-1/);
  });

  it('recreates only the proxy when a service’s settings or the proxy image change', async () => {
    const driver = fake();
    await upOn(driver, meshed());
    expect(planText(await planOn(driver, meshed({ ports: {}, resilience: { retries: { attempts: 3 } } })))).toBe(`project demo:\n  recreate container ${PROXY} (mesh config changed)\n`);
    expect(planText(await planOn(driver, meshed({ ports: { '3000': 'tcp' } })))).toContain(`recreate container ${PROXY} (mesh config changed)`);
    driver.addImage(TAG, 'sha256:newer-proxy');
    expect(planText(await planOn(driver, meshed()))).toBe(`project demo:\n  recreate container ${PROXY} (image changed)\n`);
  });

  it('does not recreate the proxy when an unmeshed service is added: it finds new callers by reverse lookup', async () => {
    const driver = fake();
    await upOn(driver, meshed());
    const grown = meshed();
    grown.services['worker'] = service('worker', { image: 'debian:bookworm-slim', expose: ['7000'], flotilla: { tests: {}, mesh: false } });
    const text = planText(await planOn(driver, grown));
    expect(text).toContain('create   container demo-worker-1 (missing)');
    expect(text).not.toContain(PROXY);
  });

  it('gives its replicas their name back and takes the service out of the proxy when a service leaves the mesh', async () => {
    const driver = fake();
    await upOn(driver, meshed());
    expect(planText(await planOn(driver, meshed(false)))).toBe(
      ['project demo:', `  recreate container ${PROXY} (its services changed)`, '  recreate container demo-api-1 (config changed) after db healthy', ''].join('\n'),
    );
  });

  it('removes the proxy when the mesh is turned off, and adds it when it is turned on', async () => {
    const driver = fake();
    await upOn(driver, meshed(undefined, false));
    expect(planText(await planOn(driver, meshed(undefined, false)))).toBe('project demo: nothing to do\n');
    const on = planText(await planOn(driver, meshed()));
    expect(on).toContain(`  create   container ${PROXY} (missing)\n`);
    expect(on).toContain('  recreate container demo-api-1 (config changed) after db healthy\n');
    await upOn(driver, meshed());
    expect(planText(await planOn(driver, meshed(undefined, false)))).toContain(`  remove   container ${PROXY} (no longer a proxy of this mesh)\n`);
  });

  it('starts a stopped proxy, and leaves it alone with --no-recreate', async () => {
    const driver = fake();
    await upOn(driver, meshed());
    for (const container of driver.containers.values()) if (container.name === PROXY) Object.assign(container, { state: 'exited', exitCode: 0 });
    expect(planText(await planOn(driver, meshed({ ports: {}, resilience: { timeout_ms: 1 } }), { noRecreate: true }))).toBe(`project demo:\n  start    container ${PROXY} (exited)\n`);
  });

  it('plans the proxy when only some of its services are brought up, with all of them in it', async () => {
    const driver = fake();
    const plan = await planOn(driver, meshed(), { services: ['db'] });
    expect(planText(plan)).toContain(`create   container ${PROXY} (missing)`);
    await execute(plan, { driver, stack: meshed(), images: {}, extraLabels: {}, meshImage, onProgress: () => undefined });
    expect(aliasesOf(driver, PROXY)).toEqual(['api', 'db', 'web']);
  });

  it('refuses a meshed service with no port, saying what to write', async () => {
    const driver = fake();
    const target = meshed();
    target.services['worker'] = service('worker', { image: 'web:latest' });
    await expect(planOn(driver, target)).rejects.toThrow('service worker is meshed but has no TCP port for its proxy to listen on');
  });

  it('removes the proxy on down, before the services', async () => {
    const driver = fake();
    await upOn(driver, meshed());
    const text = planText(planDown(meshed(), await driver.observe('demo'), { volumes: false, removeOrphans: false }));
    expect(text.indexOf(`remove   container ${PROXY} (down)`)).toBeGreaterThan(0);
    expect(text.indexOf(`remove   container ${PROXY} (down)`)).toBeLessThan(text.indexOf('remove   container demo-web-1 (down)'));
    expect(planDown(meshed(), await driver.observe('demo'), { volumes: false, removeOrphans: false }).orphans).toEqual([]);
  });
});

describe('mesh groups', () => {
  const facts = (ports: Record<string, string[]>) => (name: string): MeshImageFacts | undefined => (ports[name] ? { exposedPorts: ports[name], version: 'unknown' } : undefined);

  it('put services on the same networks in one proxy, HTTP ports shared, and a clashing TCP port in the next', () => {
    const target = meshed();
    target.services['cache'] = service('cache', { image: 'postgres:15' });
    const groups = meshGroups(target, facts({ db: ['5432/tcp'], cache: ['5432/tcp'], api: ['3000/tcp'], web: ['3000/tcp'] }));
    expect(groups).toEqual([
      { name: 'demo-flotilla-mesh-1', services: ['api', 'cache', 'web'] },
      { name: 'demo-flotilla-mesh-2', services: ['db'] },
    ]);
  });

  it('keep services on other networks, or sending telemetry elsewhere, apart: a caller reaches through a proxy only what it could reach without one', () => {
    const target = meshed();
    const db = target.services['db']!;
    target.services['db'] = { ...db, networks: { back: { aliases: [] } } };
    // The stack sends no telemetry; web does.
    target.services['web'] = { ...target.services['web']!, flotilla: { tests: {}, telemetry: true } };
    expect(meshGroups(target, facts({ db: ['5432/tcp'], api: ['3000/tcp'] })).map((group) => group.services)).toEqual([['api'], ['db'], ['web']]);
  });

  it('leave a service whose image is not there yet and which declares no port out of the config, until its image is known', () => {
    const target = meshed();
    const group = { name: PROXY, services: ['api', 'db', 'web'] };
    const config = meshProxyConfig(target, group, facts({ db: ['5432/tcp'] }));
    expect(config.services.map((entry) => [entry.service, entry.listeners.map((listener) => listener.port)])).toEqual([
      ['api', [9100]],
      ['db', [5432]],
      ['web', [8080]],
    ]);
    const bare = { name: PROXY, services: ['db'] };
    expect(meshProxyConfig(target, bare, facts({})).services).toEqual([]);
  });
});

describe('the proxy container', () => {
  const target = meshed({ ports: {}, resilience: { retries: { attempts: 2 } }, tracesPerSecond: 10 });
  const group = { name: PROXY, services: ['api', 'db'] };
  const factsOf = (name: string): MeshImageFacts | undefined =>
    ({ api: { exposedPorts: ['3000/tcp'], version: 'v1.2.0' }, db: { exposedPorts: ['5432/tcp'], version: 'unknown' } })[name];
  const request = meshProxyRequest({
    stack: { ...target, flotilla: { ...target.flotilla, telemetry: { enabled: true } } },
    group,
    factsOf,
    meshImage: { tag: TAG, id: 'sha256:proxy' },
    extraLabels: {},
  });

  it('publishes its control API on 127.0.0.1 at an ephemeral port, has a healthcheck, and reaches the collector', () => {
    expect(request.name).toBe(PROXY);
    expect(request.image).toBe('sha256:proxy');
    expect(request.service.ports).toEqual([{ target: 8474, hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }]);
    expect(request.service.healthcheck).toMatchObject({ test: ['CMD', 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/8474'] });
    expect(request.service.extraHosts).toEqual([{ host: 'host.docker.internal', ip: 'host-gateway' }]);
    expect(request.networks).toEqual([{ name: 'demo_default', aliases: ['api', 'db'] }]);
  });

  it('is configured with each service’s listeners to `<service>-upstream`, its names, the callers and the collector, as the proxy validates it', () => {
    const config = JSON.parse(request.service.environment['FLOTILLA_MESH_CONFIG'] ?? '{}') as unknown;
    expect(config).toEqual({
      host: '0.0.0.0',
      services: [
        {
          service: 'api',
          version: 'v1.2.0',
          names: ['api'],
          tracesPerSecond: 10,
          listeners: [
            { port: 3000, kind: 'http', upstreams: ['api-upstream:3000'], name: 'api-3000', resilience: { retries: { attempts: 2 } } },
            { port: 9100, kind: 'http', upstreams: ['api-upstream:9100'], name: 'api-9100', resilience: { retries: { attempts: 2 } } },
          ],
        },
        { service: 'db', version: 'unknown', names: ['db'], listeners: [{ port: 5432, kind: 'tcp', upstreams: ['db-upstream:5432'], name: 'db' }] },
      ],
      api: { host: '0.0.0.0', port: 8474 },
      collector: 'http://host.docker.internal:4318',
      callerServices: ['api', 'db', 'web'],
      project: 'demo',
    });
    expect(meshProxyConfigSchema.safeParse(config).success).toBe(true);
    expect(meshProxyConfig(target, group, factsOf).collector).toBeUndefined();
  });

  it('carries a random token for its API in its environment, in no label and not in the config hash', () => {
    const input = { stack: target, group, factsOf, meshImage: { tag: TAG, id: 'sha256:proxy' }, extraLabels: {} };
    const [first, second] = [meshProxyRequest(input), meshProxyRequest(input)];
    const [one, two] = [first.service.environment[MESH_TOKEN_ENV], second.service.environment[MESH_TOKEN_ENV]];
    expect(MESH_TOKEN_ENV).toBe(MESH_TOKEN_ENV_READ);
    expect(one).toMatch(/^[\w-]{43}$/);
    expect(two).toMatch(/^[\w-]{43}$/);
    expect(one).not.toBe(two);
    // Same config, other token: same labels, config hash included, so a second `up` recreates nothing.
    expect(second.labels).toEqual(first.labels);
    expect(first.labels[Label.configHash]).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.values(first.labels).some((value) => value.includes(one ?? '?'))).toBe(false);
    expect(meshProxyRequest({ ...input, token: 'given' }).service.environment[MESH_TOKEN_ENV]).toBe('given');
  });
});

describe('the proxy token through up', () => {
  it('is in the created container’s environment, where the control plane finds it, and a second up recreates nothing', async () => {
    const driver = fake();
    await upOn(driver, meshed());
    const proxy = [...driver.containers.values()].find((c) => c.name === PROXY);
    const token = await driver.containerEnv(PROXY, MESH_TOKEN_ENV);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(Object.values(proxy?.labels ?? {}).some((value) => value.includes(token ?? '?'))).toBe(false);
    expect(planText(await planOn(driver, meshed()))).toBe('project demo: nothing to do\n');
    // Discovery gives the token with the endpoint (the fake publishes no host port, so give it one).
    if (proxy) proxy.ports = [{ hostIp: '127.0.0.1', hostPort: 49_000, containerPort: 8474, protocol: 'tcp' }];
    const endpoints = await driverDiscovery(driver).list();
    expect(endpoints).toEqual([expect.objectContaining({ project: 'demo', url: 'http://127.0.0.1:49000', token })]);
  });
});
