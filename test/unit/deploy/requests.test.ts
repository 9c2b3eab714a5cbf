import { describe, expect, it } from 'vitest';
import { containerRequest, networkRequest } from '../../../src/deploy/requests.js';
import { resourceAttributes } from '../../../src/deploy/telemetry-env.js';
import type { ImageInfo } from '../../../src/runtime/driver.js';
import { service, stack } from '../../support/stack-factory.js';

const grant = { source: 'token', target: '/run/secrets/token' };

/** An image with no labels and no registry digest. */
function img(id: string, labels: Record<string, string> = {}): ImageInfo {
  return { id, repoDigests: [], labels };
}

describe('containerRequest', () => {
  it('labels a replica with project, service, replica, config hash, version and image', () => {
    const request = containerRequest({ stack: stack([service('api')]), service: service('api'), replica: 2, image: img('sha256:abc'), extraLabels: { 'ci.run': '7' } });
    expect(request.name).toBe('demo-api-2');
    expect(request.image).toBe('sha256:abc');
    expect(request.labels).toMatchObject({
      'ci.run': '7',
      'dev.flotilla.project': 'demo',
      'dev.flotilla.service': 'api',
      'dev.flotilla.replica': '2',
      'dev.flotilla.image': 'api:latest',
    });
    expect(request.labels['dev.flotilla.config-hash']).toMatch(/^[0-9a-f]{16}$/);
    expect(request.networks).toEqual([{ name: 'demo_default', aliases: ['api'] }]);
  });

  it('reads a secret with an environment source from the project environment, .env included', () => {
    const api = service('api', { secrets: [grant] });
    const target = stack([api], { secrets: { token: { name: 'token', external: false, environment: 'API_TOKEN' } }, environment: { API_TOKEN: 's3cr3t' } });
    const request = containerRequest({ stack: target, service: api, replica: 1, image: img('sha256:abc'), extraLabels: {} });
    expect(request.files).toEqual([{ target: '/run/secrets/token', content: Buffer.from('s3cr3t'), mode: 0o444, uid: 0, gid: 0 }]);
    expect(JSON.stringify(request.labels)).not.toContain('s3cr3t');
  });

  it('bind-mounts a secret with a file source, and names an unset variable', () => {
    const api = service('api', { secrets: [grant] });
    const fromFile = stack([api], { secrets: { token: { name: 'token', external: false, file: '/work/demo/token.txt' } } });
    expect(containerRequest({ stack: fromFile, service: api, replica: 1, image: img('x'), extraLabels: {} }).files).toEqual([
      { target: '/run/secrets/token', hostPath: '/work/demo/token.txt' },
    ]);
    const unset = stack([api], { secrets: { token: { name: 'token', external: false, environment: 'API_TOKEN' } } });
    expect(() => containerRequest({ stack: unset, service: api, replica: 1, image: img('x'), extraLabels: {} })).toThrow(
      'secret token: environment variable API_TOKEN is not set',
    );
  });

  it('changes the config hash when the configuration changes, and only then', () => {
    const hash = (fields: Parameters<typeof service>[1]) =>
      containerRequest({ stack: stack([service('api', fields)]), service: service('api', fields), replica: 1, image: img('x'), extraLabels: {} }).labels['dev.flotilla.config-hash'];
    expect(hash({})).toBe(hash({}));
    expect(hash({ replicas: 5 })).toBe(hash({}));
    expect(hash({ environment: { A: '1' } })).not.toBe(hash({}));
    expect(hash({ command: ['sleep', '1'] })).not.toBe(hash({}));
  });
});

describe('containerRequest telemetry', () => {
  const built: ImageInfo = {
    id: 'sha256:0123abcd',
    repoDigests: ['registry.example/shop/orders@sha256:feed'],
    labels: {
      'org.opencontainers.image.revision': '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432',
      'org.opencontainers.image.source': 'https://git.example/shop.git',
      'org.opencontainers.image.version': 'v1.2.0',
    },
  };
  const request = (api = service('api'), fields: Parameters<typeof stack>[1] = {}) =>
    containerRequest({ stack: stack([api], fields), service: api, replica: 2, image: built, extraLabels: {} });

  it('points the service at the collector, named and described by its project, container, image and commit', () => {
    const { service: created } = request(service('api', { environment: { KEEP: '1' } }));
    expect(created.environment).toEqual({
      KEEP: '1',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://host.docker.internal:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'api',
      OTEL_RESOURCE_ATTRIBUTES: [
        'service.namespace=demo',
        'service.instance.id=demo-api-2',
        'service.version=v1.2.0',
        'deployment.environment.name=development',
        'vcs.ref.head.revision=9f8e7d6c5b4a39281706f5e4d3c2b1a098765432',
        'vcs.repository.url.full=https://git.example/shop.git',
        'container.name=demo-api-2',
        'container.image.name=api',
        'container.image.id=sha256:0123abcd',
        'oci.manifest.digest=sha256:feed',
      ].join(','),
    });
    expect(created.extraHosts).toEqual([{ host: 'host.docker.internal', ip: 'host-gateway' }]);
  });

  it('names the deployment environment from FLOTILLA_ENVIRONMENT in the project environment', () => {
    const api = service('api');
    const staging = containerRequest({ stack: stack([api], { environment: { FLOTILLA_ENVIRONMENT: 'staging' } }), service: api, replica: 1, image: built, extraLabels: {} });
    expect(staging.service.environment['OTEL_RESOURCE_ATTRIBUTES']).toContain(',deployment.environment.name=staging,');
  });

  it('leaves out what an image built without git does not know', () => {
    const api = service('api');
    const bare = containerRequest({ stack: stack([api]), service: api, replica: 1, image: img('sha256:01', { 'org.opencontainers.image.revision': '' }), extraLabels: {} });
    expect(bare.service.environment['OTEL_RESOURCE_ATTRIBUTES']).toBe(
      'service.namespace=demo,service.instance.id=demo-api-1,deployment.environment.name=development,container.name=demo-api-1,container.image.name=api,container.image.id=sha256:01',
    );
  });

  it('never overrides a variable the Compose file sets, each on its own', () => {
    const own = service('api', { environment: { OTEL_SERVICE_NAME: 'storefront', OTEL_RESOURCE_ATTRIBUTES: 'team=web' } });
    const { environment } = request(own).service;
    expect(environment['OTEL_SERVICE_NAME']).toBe('storefront');
    expect(environment['OTEL_RESOURCE_ATTRIBUTES']).toBe('team=web');
    expect(environment['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe('http://host.docker.internal:4318');
  });

  it('maps the collector host only when the injected endpoint needs it', () => {
    const ownEndpoint = request(service('api', { environment: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' } })).service;
    expect(ownEndpoint.extraHosts).toEqual([]);
    expect(ownEndpoint.environment['OTEL_SERVICE_NAME']).toBe('api');
    const mapped = [{ host: 'host.docker.internal', ip: '10.0.0.1' }];
    expect(request(service('api', { extraHosts: mapped })).service.extraHosts).toEqual(mapped);
    expect(request(service('api', { networkMode: 'service:db', networks: {} })).service.extraHosts).toEqual([]);
    const elsewhere = request(service('api'), { flotilla: { waitTimeoutSeconds: 5, telemetry: { enabled: true, endpoint: 'https://otlp.example:4318' } } }).service;
    expect(elsewhere.environment['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe('https://otlp.example:4318');
    expect(elsewhere.extraHosts).toEqual([]);
  });

  it('sets nothing when telemetry is off for the stack or the service, and a service can turn it back on', () => {
    const off = { flotilla: { waitTimeoutSeconds: 5, telemetry: { enabled: false } } };
    expect(request(service('api'), off).service.environment).toEqual({});
    expect(request(service('api'), off).service.extraHosts).toEqual([]);
    expect(request(service('api', { flotilla: { tests: {}, telemetry: false } })).service.environment).toEqual({});
    expect(request(service('api', { flotilla: { tests: {}, telemetry: true } }), off).service.environment['OTEL_SERVICE_NAME']).toBe('api');
  });

  it('percent-encodes what the variable format does not allow in a value', () => {
    expect(resourceAttributes([['a', 'x y,z=1;%"é\\'], ['b', 'https://h/p?q#f']])).toBe('a=x%20y%2Cz%3D1%3B%25%22%C3%A9%5C,b=https://h/p?q#f');
  });

  it('recreates when the telemetry settings change, not when only the image does', () => {
    const api = service('api');
    const hash = (fields: Parameters<typeof stack>[1] = {}, image = built) =>
      containerRequest({ stack: stack([api], fields), service: api, replica: 1, image, extraLabels: {} }).labels['dev.flotilla.config-hash'];
    expect(hash({}, img('sha256:other'))).toBe(hash());
    expect(hash({ flotilla: { waitTimeoutSeconds: 5, telemetry: { enabled: false } } })).not.toBe(hash());
    expect(hash({ flotilla: { waitTimeoutSeconds: 5, telemetry: { enabled: true, endpoint: 'http://otel:4318' } } })).not.toBe(hash());
    expect(hash({ flotilla: { waitTimeoutSeconds: 5, telemetry: { enabled: true } } })).toBe(hash());
    expect(hash({ environment: { FLOTILLA_ENVIRONMENT: 'staging' } })).not.toBe(hash());
    expect(hash({ environment: { FLOTILLA_ENVIRONMENT: 'staging' }, flotilla: { waitTimeoutSeconds: 5, telemetry: { enabled: false } } })).toBe(
      hash({ flotilla: { waitTimeoutSeconds: 5, telemetry: { enabled: false } } }),
    );
  });
});

describe('networkRequest', () => {
  it('labels the network with the project and its Compose key', () => {
    expect(networkRequest(stack([service('api')]), 'demo_default', {}).labels).toMatchObject({ 'dev.flotilla.project': 'demo', 'dev.flotilla.network': 'default' });
  });
});
