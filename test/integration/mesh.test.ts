/**
 * The mesh on the real Docker Engine, through the built CLI: with `x-flotilla: { mesh: true }`,
 * `up` puts one proxy in front of both services (both on port 3000: told apart by Host), callers
 * reach the callee through it by the same name, its Toxiproxy-compatible API is published on
 * 127.0.0.1, a fault added there reaches the caller, a second `up` has
 * nothing to do, and `down` removes everything. Needs `npm run build`
 * (the proxy image is built from the bundle).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import type { ObservedContainer } from '../../src/runtime/driver.js';
import { cliEnv, runCli, stackDir } from './helpers/cli.js';
import { removeByLabel, testRunId } from './helpers/cleanup.js';

const driver = createDockerDriver({ env: process.env });
const name = `fm${testRunId.slice(0, 8)}`.toLowerCase();

// callee answers with the headers it got; caller calls http://callee:3000 on each request and passes the answer on.
const STACK = `
services:
  callee:
    image: node:20-bookworm-slim
    init: true
    stop_grace_period: 1s
    expose: ["3000"]
    command: ["node", "-e", "require('http').createServer((q, s) => s.end(JSON.stringify({ from: 'callee', xff: q.headers['x-forwarded-for'] ?? null }))).listen(3000)"]
  caller:
    image: node:20-bookworm-slim
    init: true
    stop_grace_period: 1s
    ports: ["127.0.0.1::3000"]
    depends_on: [callee]
    command: ["node", "-e", "require('http').createServer((q, s) => require('http').get('http://callee:3000/hello', (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => { s.statusCode = r.statusCode; s.end(b); }); }).on('error', (e) => { s.statusCode = 599; s.end(String(e)); })).listen(3000)"]
x-flotilla:
  mesh: true
  telemetry: false
`;

afterAll(async () => {
  await removeByLabel(testRunId);
});

async function containers(): Promise<Map<string, ObservedContainer>> {
  const state = await driver.observe(name);
  return new Map(state.containers.map((container) => [container.name, container]));
}

function hostPort(container: ObservedContainer | undefined, port: number): string {
  const published = container?.ports.find((candidate) => candidate.containerPort === port);
  if (!published) throw new Error(`${container?.name ?? 'container'} publishes no port ${port}`);
  return `${published.hostIp || '127.0.0.1'}:${published.hostPort}`;
}

describe('up with the mesh', () => {
  const cwd = stackDir(STACK);
  const flotilla = (args: string[]) => runCli(['-p', name, ...args], { cwd, env: cliEnv(testRunId) });

  it('puts one proxy in front of the services; the caller reaches the callee through it; a fault added on its API reaches the caller', async () => {
    const result = await flotilla(['up', '--wait']);
    expect(result.stderr).not.toMatch(/error|failed/i);
    expect(result.code).toBe(0);

    const running = await containers();
    expect([...running.keys()].sort()).toEqual([`${name}-callee-1`, `${name}-caller-1`, `${name}-flotilla-mesh-1`]);
    const proxy = running.get(`${name}-flotilla-mesh-1`);
    expect(proxy).toMatchObject({ state: 'running', health: 'healthy', service: 'flotilla-mesh', replica: 0 });
    expect(proxy?.labels).toMatchObject({ 'dev.flotilla.mesh': 'proxy', 'dev.flotilla.mesh.services': 'callee,caller', 'dev.flotilla.project': name, 'dev.flotilla.test-run': testRunId });
    expect(proxy?.labels['dev.flotilla.image']).toMatch(/^flotilla-mesh:\d+\.\d+\.\d+.*-[0-9a-f]{12}$/);
    const api = hostPort(proxy, 8474);
    expect(api.startsWith('127.0.0.1:')).toBe(true);

    // The proxy adds x-forwarded-for: the call went through it.
    const caller = `http://${hostPort(running.get(`${name}-caller-1`), 3000)}/`;
    const direct = await fetch(caller);
    expect(direct.status).toBe(200);
    expect(await direct.json()).toMatchObject({ from: 'callee', xff: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) as unknown });

    // The proxy's own API asks for the token `up` gave it (in its environment, never in a label).
    expect((await fetch(`http://${api}/proxies`)).status).toBe(403);
    const token = await driver.containerEnv(proxy?.id ?? '', 'FLOTILLA_MESH_TOKEN');
    expect(token).toMatch(/^\S{32,}$/);
    const headers = { 'x-flotilla-mesh-token': token ?? '' };
    const proxies = (await (await fetch(`http://${api}/proxies`, { headers })).json()) as Record<string, { listen: string; upstream: string; kind: string }>;
    expect(proxies['callee']).toMatchObject({ listen: '0.0.0.0:3000', upstream: 'callee-upstream:3000', kind: 'http', service: 'callee' });
    expect(proxies['caller']).toMatchObject({ listen: '0.0.0.0:3000', upstream: 'caller-upstream:3000', kind: 'http', service: 'caller' });

    const added = await fetch(`http://${api}/proxies/callee/toxics`, { method: 'POST', headers, body: JSON.stringify({ name: 'teapot', type: 'http_abort', attributes: { status: 418 } }) });
    expect(added.status).toBe(200);
    expect((await fetch(caller)).status).toBe(418);
    await fetch(`http://${api}/proxies/callee/toxics/teapot`, { method: 'DELETE', headers });
    expect((await fetch(caller)).status).toBe(200);
  });

  it('has nothing to do on a second up', async () => {
    const result = await flotilla(['up']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Nothing to do: 2 services of ${name} up to date.`);
  });

  it('removes the proxies with their services on down', async () => {
    const result = await flotilla(['down']);
    expect(result.code).toBe(0);
    expect(await containers()).toEqual(new Map());
  });
});
