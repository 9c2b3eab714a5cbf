/** The run version: stable for the same inputs, different when anything that decides the outcome changes. */
import { describe, expect, it } from 'vitest';
import type { ServiceSpec, TestSuiteSpec } from '../../../src/spec/types.js';
import { runVersion, type RunVersionInput } from '../../../src/testing/index.js';
import { service } from '../../support/stack-factory.js';
import { suite } from './factory.js';

function input(fields: Partial<RunVersionInput> = {}): RunVersionInput {
  return {
    image: 'build-version-abc',
    service: service('orders', { environment: { LOG_LEVEL: 'info', A: '1' }, user: 'node' }),
    suite: suite('unit', { environment: { CI: 'true' }, junit: '/reports/junit.xml' }),
    needs: [
      { service: 'db', identity: 'sha256:pg/cfg1' },
      { service: 'cache', identity: 'sha256:redis/cfg2' },
    ],
    cell: { NODE_VERSION: '18' },
    ...fields,
  };
}

const base = runVersion(input());
const withService = (fields: Partial<ServiceSpec>): RunVersionInput => input({ service: { ...input().service, ...fields } });
const withSuite = (fields: Parameters<typeof suite>[1]): RunVersionInput => input({ suite: suite('unit', { environment: { CI: 'true' }, junit: '/reports/junit.xml', ...fields }) });

describe('runVersion', () => {
  it('is a hex sha256, the same for the same inputs (a change to the hashed form must bump its scheme)', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(runVersion(input())).toBe(base);
    expect(base).toBe('d3f943052166503afa6aad94ac0705b7174bbf6a8180dad1f3cf341583ef45c5');
  });

  it('does not depend on the order of environment keys or needed services', () => {
    const reordered = input({
      service: service('orders', { user: 'node', environment: { A: '1', LOG_LEVEL: 'info' } }),
      needs: [...input().needs].reverse(),
    });
    expect(runVersion(reordered)).toBe(base);
  });

  it.each<[string, RunVersionInput]>([
    ['the image identity', input({ image: 'build-version-def' })],
    ['the cell', input({ cell: { NODE_VERSION: '20' } })],
    ['no cell', input({ cell: {} })],
    ['a needed service identity', input({ needs: [{ service: 'db', identity: 'sha256:pg/cfg9' }, { service: 'cache', identity: 'sha256:redis/cfg2' }] })],
    ['one more needed service', input({ needs: [...input().needs, { service: 'queue', identity: 'sha256:q' }] })],
    ['the suite command', withSuite({ command: ['npm', 'run', 'test:ci'] })],
    ['the suite environment', withSuite({ environment: { CI: 'false' } })],
    ['the suite timeout', withSuite({ timeout: '5m' })],
    ['the suite junit path', withSuite({ junit: '/out/junit.xml' })],
    ['the suite working_dir', withSuite({ workingDir: '/app' })],
    ['the suite image', withSuite({ image: 'node:20' })],
    ['the suite target', withSuite({ target: 'test' })],
    ['the suite name', input({ suite: { ...input().suite, name: 'unit2' } })],
    ['the service name', withService({ name: 'orders2' })],
    ['the service environment', withService({ environment: { LOG_LEVEL: 'debug', A: '1' } })],
    ['the service user', withService({ user: 'root' })],
    ['the service working_dir', withService({ workingDir: '/srv' })],
    ['the service entrypoint', withService({ entrypoint: ['tini', '--'] })],
    ['the service mounts', withService({ volumes: [{ type: 'bind', source: '/src', target: '/app', readOnly: false, createHostPath: true }] })],
    ['the service extra hosts', withService({ extraHosts: [{ host: 'api', ip: '10.0.0.1' }] })],
    ['a field TestSuiteSpec may gain later', input({ suite: { ...input().suite, retries: 2 } as TestSuiteSpec })],
    ['a field ServiceSpec may gain later', input({ service: { ...input().service, futureField: true } as ServiceSpec })],
  ])('changes with %s', (_what, changed) => {
    expect(runVersion(changed)).not.toBe(base);
  });

  it.each<[string, RunVersionInput]>([
    ['after (it orders, it does not feed)', withSuite({ after: ['orders:lint'] })],
    ['the other values of the matrix', withSuite({ matrix: { NODE_VERSION: ['18', '20', '22'] } })],
    ['the service image reference and build (the identity stands for them)', withService({ image: 'other', build: { context: '/x', dockerfile: 'Dockerfile', args: {}, labels: {} } })],
    ['the service command (the suite replaces it)', withService({ command: ['node', 'server.js'] })],
    ['ports, labels, replicas, restart and healthcheck', withService({ ports: [{ target: 80, protocol: 'tcp', mode: 'ingress' }], labels: { a: 'b' }, replicas: 3, restart: 'always', healthcheck: { disable: true } })],
    ['dependencies and profiles', withService({ dependsOn: { db: { condition: 'service_started', restart: false, required: true } }, profiles: ['x'] })],
    ['the service other suites', withService({ flotilla: { tests: { lint: suite('lint') } } })],
  ])('does not change with %s', (_what, same) => {
    expect(runVersion(same)).toBe(base);
  });
});
