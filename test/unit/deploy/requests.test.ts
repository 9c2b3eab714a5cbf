import { describe, expect, it } from 'vitest';
import { containerRequest, networkRequest } from '../../../src/deploy/requests.js';
import { service, stack } from '../../support/stack-factory.js';

const grant = { source: 'token', target: '/run/secrets/token' };

describe('containerRequest', () => {
  it('labels a replica with project, service, replica, config hash, version and image', () => {
    const request = containerRequest({ stack: stack([service('api')]), service: service('api'), replica: 2, imageId: 'sha256:abc', extraLabels: { 'ci.run': '7' } });
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
    const request = containerRequest({ stack: target, service: api, replica: 1, imageId: 'sha256:abc', extraLabels: {} });
    expect(request.files).toEqual([{ target: '/run/secrets/token', content: Buffer.from('s3cr3t'), mode: 0o444, uid: 0, gid: 0 }]);
    expect(JSON.stringify(request.labels)).not.toContain('s3cr3t');
  });

  it('bind-mounts a secret with a file source, and names an unset variable', () => {
    const api = service('api', { secrets: [grant] });
    const fromFile = stack([api], { secrets: { token: { name: 'token', external: false, file: '/work/demo/token.txt' } } });
    expect(containerRequest({ stack: fromFile, service: api, replica: 1, imageId: 'x', extraLabels: {} }).files).toEqual([
      { target: '/run/secrets/token', hostPath: '/work/demo/token.txt' },
    ]);
    const unset = stack([api], { secrets: { token: { name: 'token', external: false, environment: 'API_TOKEN' } } });
    expect(() => containerRequest({ stack: unset, service: api, replica: 1, imageId: 'x', extraLabels: {} })).toThrow(
      'secret token: environment variable API_TOKEN is not set',
    );
  });

  it('changes the config hash when the configuration changes, and only then', () => {
    const hash = (fields: Parameters<typeof service>[1]) =>
      containerRequest({ stack: stack([service('api', fields)]), service: service('api', fields), replica: 1, imageId: 'x', extraLabels: {} }).labels['dev.flotilla.config-hash'];
    expect(hash({})).toBe(hash({}));
    expect(hash({ replicas: 5 })).toBe(hash({}));
    expect(hash({ environment: { A: '1' } })).not.toBe(hash({}));
    expect(hash({ command: ['sleep', '1'] })).not.toBe(hash({}));
  });
});

describe('networkRequest', () => {
  it('labels the network with the project and its Compose key', () => {
    expect(networkRequest(stack([service('api')]), 'demo_default', {}).labels).toMatchObject({ 'dev.flotilla.project': 'demo', 'dev.flotilla.network': 'default' });
  });
});
