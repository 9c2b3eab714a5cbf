/** `x-flotilla.mesh`: on for the stack or per service, with ports and resilience; mistakes named with their place. */
import { describe, expect, it } from 'vitest';
import { resilienceSchema } from '../../../src/mesh/http/resilience.js';
import { meshedServices, meshSettingsOf, renderStack } from '../../../src/spec/index.js';
import { meshResilienceSchema } from '../../../src/spec/schema/mesh.js';
import type * as z from 'zod';
import { issueOf, issuesOf, load, yaml } from './helpers.js';

/** A compose.yaml with services `api` (its `x-flotilla` lines at 4), `db`, `migrate` (a job) and `side` (network_mode), and the top-level lines. */
function project(apiLines: string[], topLines: string[]): Record<string, string> {
  return {
    'compose.yaml': yaml(
      'services:',
      '  api:',
      '    image: nginx',
      ...apiLines,
      '    depends_on:',
      '      migrate: { condition: service_completed_successfully }',
      '  db:',
      '    image: postgres',
      '  migrate:',
      '    image: flyway',
      '  side:',
      '    image: envoy',
      '    network_mode: service:api',
      ...(topLines.length > 0 ? ['x-flotilla:', ...topLines] : []),
    ),
  };
}

describe('resolved mesh settings', () => {
  it('are absent when nothing is written: no service is meshed', async () => {
    const { stack } = await load(project([], []));
    expect(stack.flotilla.mesh).toBeUndefined();
    expect(stack.services['api']?.flotilla).toEqual({ tests: {} });
    expect(meshedServices(stack)).toEqual([]);
  });

  it('mesh every service for `mesh: true`, except a job and a service sharing another network namespace', async () => {
    const { stack } = await load(project([], ['  mesh: true']));
    expect(stack.flotilla.mesh).toBe(true);
    expect(meshedServices(stack)).toEqual(['api', 'db']);
    expect(meshSettingsOf(stack, stack.services['db']!)).toEqual({ ports: {} });
  });

  it('let a service opt out, or in with ports and resilience (interpolated like any value)', async () => {
    const { stack } = await load(
      project(
        ['    x-flotilla:', '      mesh:', '        ports: { 8080: tcp, "9090": http }', '        resilience:', '          timeout_ms: ${T}', '          retries: { attempts: 3, on_status: [503] }'],
        [],
      ),
      { env: { T: '2500' } },
    );
    expect(stack.services['api']?.flotilla.mesh).toEqual({ ports: { '8080': 'tcp', '9090': 'http' }, resilience: { timeout_ms: 2500, retries: { attempts: 3, on_status: [503] } } });
    expect(meshedServices(stack)).toEqual(['api']);
    const off = await load(project(['    x-flotilla:', '      mesh: false'], ['  mesh: true']));
    expect(meshedServices(off.stack)).toEqual(['db']);
    expect(off.stack.services['api']?.flotilla.mesh).toBe(false);
  });

  it('take how many traces a second the proxy starts, and render it back', async () => {
    const { stack } = await load(project(['    x-flotilla:', '      mesh: { traces_per_second: 5 }'], []));
    expect(stack.services['api']?.flotilla.mesh).toEqual({ ports: {}, tracesPerSecond: 5 });
    expect(renderStack(stack, 'yaml')).toContain('    x-flotilla:\n      mesh:\n        traces_per_second: 5\n');
    expect(await issueOf(project(['    x-flotilla:', '      mesh: { traces_per_second: -1 }'], []))).toBe(
      'compose.yaml:5:34 services.api.x-flotilla.mesh.traces_per_second: expected a number of at least 0, found -1',
    );
  });

  it('render as written, and load back the same', async () => {
    const { stack } = await load(project(['    x-flotilla:', '      mesh:', '        ports: { 8080: tcp }', '        resilience: { retries: { attempts: 2 } }'], ['  mesh: true']));
    const rendered = renderStack(stack, 'yaml');
    expect(rendered).toContain('    x-flotilla:\n      mesh:\n        ports:\n          "8080": tcp\n        resilience:\n          retries:\n            attempts: 2\n');
    expect(rendered).toContain('x-flotilla:\n  wait_timeout: 300s\n  mesh: true\n');
    const again = await load({ 'compose.yaml': rendered });
    expect(renderStack(again.stack, 'yaml')).toBe(rendered);
    const plain = await load(project(['    x-flotilla:', '      mesh: on'], []));
    expect(renderStack(plain.stack, 'yaml')).toContain('    x-flotilla:\n      mesh: true\n');
  });
});

describe('mesh mistakes', () => {
  it('suggest the key meant, at every level', async () => {
    expect(await issuesOf(project(['    x-flotilla:', '      mesh:', '        resilence: {}', '        ports: { 80: http }'], ['  mseh: true']))).toEqual([
      "compose.yaml:6:9 services.api.x-flotilla.mesh.resilence: unknown key 'resilence'; did you mean 'resilience'?",
      "compose.yaml:18:3 x-flotilla.mseh: unknown key 'mseh'; did you mean 'mesh'?",
    ]);
    expect(await issueOf(project(['    x-flotilla:', '      mesh:', '        resilience: { retries: { atempts: 2 } }'], []))).toBe(
      "compose.yaml:6:34 services.api.x-flotilla.mesh.resilience.retries.atempts: unknown key 'atempts'; did you mean 'attempts'?",
    );
  });

  it('name a protocol that is not http or tcp, and a port that is not one', async () => {
    expect(await issuesOf(project(['    x-flotilla:', '      mesh:', '        ports: { 5432: postgres, web: http, 70000: tcp }'], []))).toEqual([
      "compose.yaml:6:24 services.api.x-flotilla.mesh.ports.5432: expected one of 'http', 'tcp', found 'postgres'",
      "compose.yaml:6:34 services.api.x-flotilla.mesh.ports.web: expected a container port from 1 to 65535 as the key, found 'web'",
      "compose.yaml:6:45 services.api.x-flotilla.mesh.ports.70000: expected a container port from 1 to 65535 as the key, found '70000'",
    ]);
  });

  it('name values out of range and of the wrong kind', async () => {
    expect(await issuesOf(project(['    x-flotilla:', '      mesh:', '        resilience: { retries: { attempts: 20 }, budget: { ratio: lots } }'], ['  mesh: [yes]']))).toEqual([
      'compose.yaml:6:44 services.api.x-flotilla.mesh.resilience.retries.attempts: expected a number of at most 10, found 20',
      "compose.yaml:6:67 services.api.x-flotilla.mesh.resilience.budget.ratio: expected a number, found 'lots'",
      'compose.yaml:17:9 x-flotilla.mesh: expected true or false, found a list',
    ]);
    expect(await issueOf(project(['    x-flotilla:', '      mesh: proxy'], []))).toBe(
      "compose.yaml:5:13 services.api.x-flotilla.mesh: expected true or false, found 'proxy'",
    );
  });

  it('refuse a mesh on a service that shares another network namespace', async () => {
    const files = project([], []);
    files['compose.yaml'] = (files['compose.yaml'] ?? '').replace('    network_mode: service:api\n', '    network_mode: service:api\n    x-flotilla: { mesh: true }\n');
    expect(await issueOf(files)).toBe(
      "compose.yaml:13:25 services.side.x-flotilla.mesh: a service with network_mode 'service:api' cannot be meshed: it has no network name of its own for the proxy to take; remove mesh or network_mode",
    );
  });
});

describe('the resilience shape', () => {
  it('has exactly the keys of the proxy resilience settings, so what the loader accepts the proxy takes', () => {
    const keysOf = (schema: z.ZodType, value: unknown): string[] => Object.keys(schema.parse(value) as object).sort();
    const full = { attempt_timeout_ms: 1, timeout_ms: 1, body_idle_timeout_ms: 1, retries: { attempts: 2, on_status: [503], on_errors: ['reset'], backoff_ms: 5 }, budget: { ratio: 0.5, window_ms: 1000, min_retries: 1 }, ejection: { consecutive_failures: 2, cool_off_ms: 10 } };
    expect(keysOf(meshResilienceSchema, full)).toEqual(keysOf(resilienceSchema, {}));
    for (const section of ['retries', 'budget', 'ejection'] as const) {
      const proxy = resilienceSchema.parse({})[section];
      expect(Object.keys(full[section]).sort()).toEqual(Object.keys(proxy).sort());
    }
    expect(resilienceSchema.parse(meshResilienceSchema.parse(full))).toEqual(full);
  });
});
