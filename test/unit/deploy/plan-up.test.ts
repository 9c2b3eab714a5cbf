import { describe, expect, it } from 'vitest';
import { execute } from '../../../src/deploy/execute.js';
import { observe } from '../../../src/deploy/observe.js';
import type { Observation } from '../../../src/deploy/observation.js';
import { planUp, type UpOptions } from '../../../src/deploy/plan-up.js';
import { planText } from '../../../src/deploy/plan-text.js';
import { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';
import { serviceConfigHash } from '../../../src/deploy/config-hash.js';
import type { ContainerRequest } from '../../../src/runtime/driver.js';
import type { ServiceSpec, Stack } from '../../../src/spec/types.js';
import { healthy, service, shop, stack } from '../../support/stack-factory.js';

const defaults: UpOptions = { services: [], forceRecreate: false, noRecreate: false, removeOrphans: false, build: false };

function emptyObservation(images: Record<string, string | undefined> = {}): Observation {
  return { state: { containers: [], networks: [], volumes: [] }, images, builds: {}, externalNetworks: [], externalVolumes: [], portsInUse: [] };
}

/** Brings a stack up on a fake driver, as `up` would. */
async function upOnFake(driver: FakeDriver, target: Stack, options: Partial<UpOptions> = {}) {
  const observation = await observe(driver, target, []);
  const plan = planUp(target, observation, { ...defaults, ...options });
  const result = await execute(plan, { driver, stack: target, images: observation.images, extraLabels: {}, onProgress: () => undefined });
  return { plan, result };
}

async function planOnFake(driver: FakeDriver, target: Stack, options: Partial<UpOptions> = {}) {
  return planText(planUp(target, await observe(driver, target, []), { ...defaults, ...options }));
}

function fakeWithImages(): FakeDriver {
  const driver = new FakeDriver();
  for (const ref of ['postgres:15', 'inventory:latest', 'orders:latest', 'gateway:latest']) driver.addImage(ref);
  return driver;
}

describe('planUp from nothing', () => {
  it('pulls missing images, creates networks and volumes, then containers in dependency order', () => {
    const plan = planUp(shop(), emptyObservation({ 'postgres:15': 'sha256:pg' }), defaults);
    expect(planText(plan)).toBe(
      [
        'project demo:',
        '  pull     image inventory:latest (missing)',
        '  pull     image orders:latest (missing)',
        '  pull     image gateway:latest (missing)',
        '  create   network demo_default (missing)',
        '  create   volume demo_pgdata (missing)',
        '  create   container demo-db-1 (missing)',
        '  create   container demo-inventory-1 (missing)',
        '  create   container demo-orders-1 (missing) after db healthy, inventory healthy',
        '  create   container demo-gateway-1 (missing) after orders started',
        '',
      ].join('\n'),
    );
  });

  it('builds a service only when no image has its build version, and runs the image by that version', () => {
    const target = stack([service('api', { image: 'demo-api', build: { context: '/work/demo/api', dockerfile: 'Dockerfile', args: {}, labels: {} } })]);
    const unbuilt = { ...emptyObservation(), builds: { api: { tag: 'demo-api:fl-0123' } } };
    const built = { ...emptyObservation(), builds: { api: { tag: 'demo-api:fl-0123', imageId: 'sha256:1' } } };
    expect(planText(planUp(target, unbuilt, defaults))).toContain('build    image demo-api:fl-0123 (no image for this build version)');
    expect(planText(planUp(target, built, defaults))).not.toContain('build');
    expect(planText(planUp(target, built, { ...defaults, build: true }))).toContain('build    image demo-api:fl-0123 (--build)');
    expect(planUp(target, built, defaults).services[0]?.operations[0]).toMatchObject({ type: 'create-container', image: 'demo-api:fl-0123' });
  });

  it('recreates a container when its service has a new build version', () => {
    const target = stack([service('api', { image: 'demo-api', build: { context: '/work/demo/api', dockerfile: 'Dockerfile', args: {}, labels: {} } })]);
    const observation = { ...emptyObservation(), builds: { api: { tag: 'demo-api:fl-0456', imageId: 'sha256:new' } } };
    observation.state.networks.push({ id: 'n1', name: 'demo_default', labels: {} });
    observation.state.containers.push({
      id: 'c1', name: 'demo-api-1', project: 'demo', service: 'api', replica: 1, imageId: 'sha256:old', state: 'running', exitCode: 0, labels: {}, ports: [],
      configHash: serviceConfigHash(target, target.services['api'] as ServiceSpec),
    });
    expect(planText(planUp(target, observation, defaults))).toBe('project demo:\n  recreate container demo-api-1 (image changed)\n');
  });

  it('refuses a missing image whose pull_policy is never', () => {
    const target = stack([service('api', { pullPolicy: 'never' })]);
    expect(() => planUp(target, emptyObservation(), defaults)).toThrow('service api: image api:latest is not present and pull_policy is never');
  });

  it('fails on an external network that does not exist, naming it', () => {
    const target = stack([service('api')], {
      networks: { default: { name: 'shared', external: true, driver: 'bridge', driverOpts: {}, internal: false, attachable: false, enableIpv6: false, labels: {} } },
    });
    expect(() => planUp(target, emptyObservation({ 'api:latest': 'sha256:1' }), defaults)).toThrow('network shared is declared external but does not exist');
  });

  it('plans only the named services', () => {
    const text = planText(planUp(shop(), emptyObservation({ 'postgres:15': 'x', 'inventory:latest': 'y' }), { ...defaults, services: ['db', 'inventory'] }));
    expect(text).toContain('container demo-db-1');
    expect(text).not.toContain('orders');
  });
});

describe('planUp is idempotent and converges', () => {
  it('has nothing to do on a second run', async () => {
    const driver = fakeWithImages();
    const { result } = await upOnFake(driver, shop());
    expect(result.failures).toEqual([]);
    expect(await planOnFake(driver, shop())).toBe('project demo: nothing to do\n');
  });

  it('recreates only the changed service, and restarts dependents that ask for it', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    const changed = shop();
    (changed.services['db'] as { environment: Record<string, string> }).environment = { POSTGRES_PASSWORD: 'new' };
    expect(await planOnFake(driver, changed)).toBe(
      ['project demo:', '  recreate container demo-db-1 (config changed)', '  restart  container demo-orders-1 (dependency db replaced) after db healthy, inventory healthy', ''].join('\n'),
    );
  });

  it('recreates every service when telemetry is turned off, and nothing when it is set to its default', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    const withTelemetry = (telemetry: NonNullable<Stack['flotilla']['telemetry']>): Stack => ({ ...shop(), flotilla: { waitTimeoutSeconds: 5, telemetry } });
    expect(await planOnFake(driver, withTelemetry({ enabled: true }))).toBe('project demo: nothing to do\n');
    expect(await planOnFake(driver, withTelemetry({ enabled: false }))).toContain('recreate container demo-gateway-1 (config changed)');
  });

  it('recreates a container whose image id changed', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    driver.addImage('inventory:latest', 'sha256:newer');
    expect(await planOnFake(driver, shop())).toContain('recreate container demo-inventory-1 (image changed)');
  });

  it('starts containers left created or stopped by an interrupted run', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    for (const container of driver.containers.values()) {
      if (container.service === 'orders') container.state = 'created';
      if (container.service === 'gateway') Object.assign(container, { state: 'exited', exitCode: 137 });
    }
    expect(await planOnFake(driver, shop())).toBe(
      [
        'project demo:',
        '  start    container demo-orders-1 (created) after db healthy, inventory healthy',
        '  start    container demo-gateway-1 (exited) after orders started',
        '',
      ].join('\n'),
    );
  });

  it('creates only what an interrupted run did not', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    const gateway = [...driver.containers.values()].find((c) => c.service === 'gateway');
    driver.containers.delete(gateway?.id ?? '');
    expect(await planOnFake(driver, shop())).toBe('project demo:\n  create   container demo-gateway-1 (missing) after orders started\n');
  });

  it('scales up and down by replica number', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    const three = shop();
    (three.services['inventory'] as { replicas: number }).replicas = 3;
    await upOnFake(driver, three);
    expect([...driver.containers.values()].filter((c) => c.service === 'inventory').map((c) => c.name).sort()).toEqual([
      'demo-inventory-1',
      'demo-inventory-2',
      'demo-inventory-3',
    ]);
    expect(await planOnFake(driver, shop())).toBe(
      ['project demo:', '  remove   container demo-inventory-2 (scaled to 1)', '  remove   container demo-inventory-3 (scaled to 1)', ''].join('\n'),
    );
  });

  it('reports orphans, and removes them with --remove-orphans', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    const smaller = shop();
    delete smaller.services['gateway'];
    expect(await planOnFake(driver, smaller)).toBe('project demo:\n  orphan container demo-gateway-1 (use --remove-orphans to remove it)\n');
    expect(await planOnFake(driver, smaller, { removeOrphans: true })).toBe(
      'project demo:\n  remove   container demo-gateway-1 (orphan: service gateway is not in the stack)\n',
    );
  });

  it('does not count services of inactive profiles as orphans', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    const smaller = shop();
    delete smaller.services['gateway'];
    smaller.disabledServices = ['gateway'];
    expect(await planOnFake(driver, smaller)).toBe('project demo: nothing to do\n');
  });

  it('does not start again a job that completed successfully', async () => {
    const driver = fakeWithImages();
    driver.addImage('migrate:latest');
    driver.behaviour.set('migrate', { kind: 'exit', code: 0 });
    const target = stack([
      service('migrate'),
      service('api', { image: 'orders:latest', dependsOn: { migrate: { condition: 'service_completed_successfully', restart: false, required: true } } }),
    ]);
    const { result } = await upOnFake(driver, target);
    expect(result.failures).toEqual([]);
    expect(await planOnFake(driver, target)).toBe('project demo: nothing to do\n');
  });
});

describe('planUp port conflicts', () => {
  it('names the service and the port held by another process, before anything is created', () => {
    const observation = emptyObservation();
    observation.portsInUse = [{ hostIp: '0.0.0.0', port: 8080, protocol: 'tcp', holder: 'a process on this host' }];
    expect(() => planUp(shop(), observation, defaults)).toThrow('service gateway: host port 8080/tcp is already taken by a process on this host');
  });

  it('ignores a port held by the container it is about to replace', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    const text = await planOnFake(driver, shop(), { forceRecreate: true });
    expect(text).toContain('recreate container demo-gateway-1 (--force-recreate)');
  });

  it('refuses two services on the same host port', () => {
    const target = stack([
      service('a', { ports: [{ target: 80, published: '9000', protocol: 'tcp', mode: 'ingress' }] }),
      service('b', { ports: [{ target: 81, published: '9000', protocol: 'tcp', mode: 'ingress' }] }),
    ]);
    expect(() => planUp(target, emptyObservation(), defaults)).toThrow('service b: host port 9000/tcp is already taken by service a');
  });

  it('refuses replicas sharing a fixed host port', () => {
    const target = stack([service('a', { replicas: 2, ports: [{ target: 80, published: '9000', protocol: 'tcp', mode: 'ingress' }] })]);
    expect(() => planUp(target, emptyObservation(), defaults)).toThrow('service a runs 2 replicas but publishes fixed host port 9000/tcp');
  });

  it('lets different host IPs share a port number', () => {
    const target = stack([
      service('a', { ports: [{ target: 80, published: '9000', hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }] }),
      service('b', { ports: [{ target: 80, published: '9000', hostIp: '127.0.0.2', protocol: 'tcp', mode: 'ingress' }] }),
    ]);
    expect(() => planUp(target, emptyObservation(), defaults)).not.toThrow();
  });
});

describe('execute', () => {
  it('creates each container with the OTEL_* variables, naming the revision its image was built from', async () => {
    const requests: ContainerRequest[] = [];
    const driver = fakeWithImages();
    const create = driver.createContainer.bind(driver);
    driver.createContainer = (request) => (requests.push(request), create(request));
    driver.addImage('orders:latest', 'sha256:orders', { labels: { 'org.opencontainers.image.revision': 'abc123' } });
    await upOnFake(driver, shop());
    const orders = requests.find((request) => request.name === 'demo-orders-1');
    expect(orders?.service.environment).toMatchObject({ OTEL_SERVICE_NAME: 'orders', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://host.docker.internal:4318' });
    expect(orders?.service.environment['OTEL_RESOURCE_ATTRIBUTES']).toContain('vcs.ref.head.revision=abc123,');
    expect(orders?.service.environment['OTEL_RESOURCE_ATTRIBUTES']).toContain('container.image.id=sha256:orders');
    expect(orders?.service.extraHosts).toEqual([{ host: 'host.docker.internal', ip: 'host-gateway' }]);
  });

  it('creates dependencies before dependents', async () => {
    const driver = fakeWithImages();
    await upOnFake(driver, shop());
    const starts = driver.calls.filter((call) => call.startsWith('start container'));
    expect(starts.indexOf('start container demo-db-1')).toBeLessThan(starts.indexOf('start container demo-orders-1'));
    expect(starts.indexOf('start container demo-orders-1')).toBeLessThan(starts.indexOf('start container demo-gateway-1'));
  });

  it('skips the dependents of a failed service and still starts the independent ones', async () => {
    const driver = fakeWithImages();
    driver.behaviour.set('db', { kind: 'unhealthy' });
    const { result } = await upOnFake(driver, shop());
    expect(result.failures).toEqual([{ service: 'db', container: 'demo-db-1', message: 'service db: container demo-db-1 is unhealthy' }]);
    expect(result.skipped.sort()).toEqual(['gateway', 'orders']);
    expect(driver.calls).toContain('start container demo-inventory-1');
    expect(driver.calls).not.toContain('create container demo-orders-1');
  });

  it('fails a service whose job dependency exits with an error', async () => {
    const driver = fakeWithImages();
    driver.addImage('migrate:latest');
    driver.behaviour.set('migrate', { kind: 'exit', code: 3 });
    const target = stack([
      service('migrate'),
      service('api', { image: 'orders:latest', healthcheck: healthy, dependsOn: { migrate: { condition: 'service_completed_successfully', restart: false, required: true } } }),
    ]);
    const { result } = await upOnFake(driver, target);
    expect(result.failures).toEqual([{ service: 'migrate', container: 'demo-migrate-1', message: 'service migrate: container demo-migrate-1 exited with code 3' }]);
    expect(result.skipped).toEqual(['api']);
  });
});
