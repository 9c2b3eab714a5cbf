/** `x-flotilla.telemetry`: on by default, off or pointed elsewhere for the stack, off or on per service; mistakes named with their place. */
import { describe, expect, it } from 'vitest';
import { loadStack, renderStack } from '../../../src/spec/index.js';
import { HOME, issueOf, issuesOf, load, writeProject, yaml } from './helpers.js';

/** A compose.yaml with service `api` (its own `x-flotilla` lines indented at 4) and the top-level `x-flotilla` lines. */
function project(serviceLines: string[], topLines: string[]): Record<string, string> {
  return { 'compose.yaml': yaml('services:', '  api:', '    image: nginx', ...serviceLines, ...(topLines.length > 0 ? ['x-flotilla:', ...topLines] : [])) };
}

describe('resolved telemetry settings', () => {
  it('are on, with no endpoint of their own, when nothing is written', async () => {
    const { stack } = await load(project([], []));
    expect(stack.flotilla.telemetry).toEqual({ enabled: true });
    expect(stack.services['api']?.flotilla).toEqual({ tests: {} });
  });

  it('read false, true, an endpoint, and a service override (interpolated like any value)', async () => {
    expect((await load(project([], ['  telemetry: false']))).stack.flotilla.telemetry).toEqual({ enabled: false });
    expect((await load(project([], ['  telemetry: "yes"']))).stack.flotilla.telemetry).toEqual({ enabled: true });
    const { stack } = await load(project(['    x-flotilla:', '      telemetry: off'], ['  telemetry:', '    endpoint: ${OTLP}']), { env: { OTLP: 'https://otlp.example:4318' } });
    expect(stack.flotilla.telemetry).toEqual({ enabled: true, endpoint: 'https://otlp.example:4318' });
    expect(stack.services['api']?.flotilla).toEqual({ tests: {}, telemetry: false });
  });

  it('render only when they differ from the default, and load back the same', async () => {
    const defaults = await load(project([], []));
    expect(renderStack(defaults.stack, 'yaml')).not.toContain('telemetry');
    const dir = await writeProject(project(['    x-flotilla:', '      telemetry: true'], ['  telemetry:', '    endpoint: http://otel:4318']));
    const stack = await loadStack({ cwd: dir, env: { HOME } });
    const rendered = renderStack(stack, 'yaml');
    expect(rendered).toContain('x-flotilla:\n  wait_timeout: 300s\n  telemetry:\n    endpoint: http://otel:4318\n');
    expect(rendered).toContain('    x-flotilla:\n      telemetry: true\n');
    const again = await load({ 'compose.yaml': rendered });
    expect(renderStack(again.stack, 'yaml')).toBe(rendered);
    expect(renderStack((await load(project([], ['  telemetry: false']))).stack, 'yaml')).toContain('  telemetry: false\n');
  });
});

describe('telemetry mistakes', () => {
  it('name an endpoint that is not an http URL', async () => {
    expect(await issueOf(project([], ['  telemetry:', '    endpoint: collector:4318']))).toBe(
      "compose.yaml:6:15 x-flotilla.telemetry.endpoint: expected an http:// or https:// URL such as http://collector:4318, found 'collector:4318'",
    );
  });

  it('suggest the key meant under telemetry', async () => {
    expect(await issueOf(project([], ['  telemetry:', '    endpiont: http://otel:4318']))).toBe(
      "compose.yaml:6:5 x-flotilla.telemetry.endpiont: unknown key 'endpiont'; did you mean 'endpoint'?",
    );
  });

  it('name a value of the wrong kind, for the stack and for a service', async () => {
    const issues = await issuesOf(project(['    x-flotilla:', '      telemetry: { endpoint: http://otel:4318 }'], ['  telemetry: [on]']));
    expect(issues).toEqual([
      'compose.yaml:5:18 services.api.x-flotilla.telemetry: expected true or false, found a mapping',
      'compose.yaml:7:14 x-flotilla.telemetry: expected true or false, found a list',
    ]);
  });
});
