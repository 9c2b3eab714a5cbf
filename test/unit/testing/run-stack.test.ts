import { describe, expect, it } from 'vitest';
import { neededServices, runStack, suiteServiceName } from '../../../src/testing/run-stack.js';
import type { TestSuiteSpec } from '../../../src/spec/types.js';
import { healthy, service, stack } from '../../support/stack-factory.js';

const suite = (fields: Partial<TestSuiteSpec> = {}): TestSuiteSpec => ({ name: 'integration', command: ['npm', 'test'], needs: [], environment: {}, timeout: '10m', after: [], matrix: {}, ...fields });

const shop = stack(
  [
    service('db', { healthcheck: healthy, volumes: [{ type: 'volume', source: 'pgdata', target: '/data', readOnly: false, nocopy: false }], ports: [{ target: 5432, published: '5432', protocol: 'tcp', mode: 'ingress' }] }),
    service('cache'),
    service('api', {
      environment: { LOG: 'info' },
      ports: [{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }],
      dependsOn: { db: { condition: 'service_healthy', restart: false, required: true } },
    }),
  ],
  { volumes: { pgdata: { name: 'demo_pgdata', external: false, driver: 'local', driverOpts: {}, labels: {} } } },
);

describe('runStack', () => {
  it('holds fresh copies of what the suite needs, with their dependencies, and the suite waiting for them', () => {
    const run = runStack({ stack: shop, project: 'demo-tabc-0', service: 'api', suite: suite({ needs: ['api'] }), cell: { NODE: '18' }, suiteImage: 'sha256:suite', neededImages: { api: 'sha256:api', db: 'sha256:db' } });
    expect(Object.keys(run.services).sort()).toEqual(['api', 'db', suiteServiceName('integration')]);
    expect(neededServices(shop, suite({ needs: ['api'] }))).toEqual(['api', 'db']);
    const suiteService = run.services[suiteServiceName('integration')];
    expect(suiteService).toMatchObject({ image: 'sha256:suite', command: ['npm', 'test'], restart: 'no', healthcheck: { disable: true }, environment: { LOG: 'info', NODE: '18' } });
    expect(suiteService?.dependsOn).toEqual({ api: { condition: 'service_started', restart: false, required: true } });
    expect(run.name).toBe('demo-tabc-0');
    expect(run.networks['default']?.name).toBe('demo-tabc-0_default');
  });

  it('publishes no host port and replaces named volumes with tmpfs, so runs never share data', () => {
    const run = runStack({ stack: shop, project: 'demo-tabc-1', service: 'api', suite: suite({ needs: ['db'] }), cell: {}, suiteImage: 'sha256:suite', neededImages: { db: 'sha256:db' } });
    expect(run.services['db']?.ports).toEqual([]);
    expect(run.services['db']?.volumes).toEqual([{ type: 'tmpfs', target: '/data' }]);
    expect(run.volumes).toEqual({});
    expect(run.services[suiteServiceName('integration')]?.dependsOn['db']?.condition).toBe('service_healthy');
  });

  it('runs a suite that needs nothing on the default bridge, with no network of its own', () => {
    const run = runStack({ stack: shop, project: 'demo-tabc-2', service: 'cache', suite: suite(), cell: {}, suiteImage: 'sha256:suite', neededImages: {} });
    expect(Object.keys(run.services)).toEqual([suiteServiceName('integration')]);
    expect(run.networks).toEqual({});
    expect(run.services[suiteServiceName('integration')]).toMatchObject({ networkMode: 'bridge', networks: {} });
  });
});
