/** Profiles and services named on the command line. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { issueOf, load, yaml } from './helpers.js';

const compose = yaml(
  'services:',
  '  web:',
  '    image: web',
  '  test_lib:',
  '    image: test_lib',
  '    profiles: [test]',
  '  coverage_lib:',
  '    image: coverage_lib',
  '    depends_on: [test_lib]',
  '    profiles: [test]',
  '  debug_lib:',
  '    image: debug_lib',
  '    depends_on: [test_lib]',
  '    profiles: [debug]',
);

describe('profiles', () => {
  it('enables only services without profiles by default', async () => {
    const { stack } = await load({ 'compose.yaml': compose });
    expect(Object.keys(stack.services)).toEqual(['web']);
    expect(stack.disabledServices).toEqual(['coverage_lib', 'debug_lib', 'test_lib']);
  });

  it('enables the services of an active profile', async () => {
    const { stack } = await load({ 'compose.yaml': compose }, { profiles: ['test'] });
    expect(Object.keys(stack.services)).toEqual(['coverage_lib', 'test_lib', 'web']);
  });

  it('reads COMPOSE_PROFILES (comma-separated) when --profile is not given', async () => {
    const { stack } = await load({ 'compose.yaml': compose }, { env: { COMPOSE_PROFILES: 'test, debug' } });
    expect(Object.keys(stack.services)).toEqual(['coverage_lib', 'debug_lib', 'test_lib', 'web']);
  });

  it('enables everything with *', async () => {
    const { stack } = await load({ 'compose.yaml': compose }, { profiles: ['*'] });
    expect(Object.keys(stack.services)).toHaveLength(4);
  });

  it('reports an enabled service depending on a disabled one', async () => {
    expect(await issueOf({ 'compose.yaml': compose }, { profiles: ['debug'] })).toBe(
      "compose.yaml:13:18 services.debug_lib.depends_on[0]: depends on service 'test_lib', which is not enabled (profiles: test); enable one of its profiles with --profile or name it on the command line",
    );
  });

  it('enables a service named on the command line, and its dependencies, whatever their profiles', async () => {
    const { stack } = await load({ 'compose.yaml': compose }, { services: ['debug_lib'] });
    expect(Object.keys(stack.services)).toEqual(['debug_lib', 'test_lib', 'web']);
  });

  it('rejects an unknown service name with the closest one', async () => {
    const error = await load({ 'compose.yaml': compose }, { services: ['debuglib'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe("no such service: 'debuglib'; did you mean 'debug_lib'?");
  });

  it('still validates services whose profile is not active', async () => {
    expect(await issueOf({ 'compose.yaml': `${compose}  tools:\n    image: x\n    profiles: [tools]\n    comand: [sh]\n` })).toBe(
      "compose.yaml:18:5 services.tools.comand: unknown key 'comand'; did you mean 'command'?",
    );
  });

  it('rejects a profile name with spaces', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services:', '  a:', '    image: x', '    profiles: ["my profile"]') })).toBe(
      "compose.yaml:4:16 services.a.profiles[0]: expected a profile name of letters, digits, '_', '.' or '-', found 'my profile'",
    );
  });
});
