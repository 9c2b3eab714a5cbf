/**
 * `flotilla up` against the real Docker Engine, driven through the built CLI as a user would.
 * Every object carries the run's label and is removed by it afterwards, even when a test fails.
 */
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import type { ObservedContainer } from '../../src/runtime/driver.js';
import { cliEnv, eventually, runCli, stackDir, startCli } from './helpers/cli.js';
import { removeByLabel, testRunId } from './helpers/cleanup.js';

const driver = createDockerDriver({ env: process.env });
const env = cliEnv(testRunId);
let projects = 0;

/** A project name unique to this run and test. */
function project(): string {
  return `ft${testRunId.slice(0, 8)}-${++projects}`.toLowerCase();
}

afterAll(async () => {
  await removeByLabel(testRunId);
});

async function containers(name: string): Promise<Map<string, ObservedContainer>> {
  const state = await driver.observe(name);
  return new Map(state.containers.map((container) => [container.service, container]));
}

const CONDITIONS_STACK = `
services:
  db:
    image: debian:bookworm-slim
    init: true
    command: sh -c "sleep 1; touch /tmp/ready; exec sleep infinity"
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      timeout: 1s
      retries: 30
  migrate:
    image: debian:bookworm-slim
    command: sh -c "echo migrated"
    depends_on:
      db: { condition: service_healthy }
  api:
    image: debian:bookworm-slim
    init: true
    command: sleep infinity
    environment:
      GREETING: \${GREETING:-hello}
    depends_on:
      migrate: { condition: service_completed_successfully }
      db: { condition: service_healthy, restart: true }
  web:
    image: debian:bookworm-slim
    init: true
    command: sleep infinity
    depends_on: [api]
`;

describe('up, again, changed, down', () => {
  const name = project();
  const cwd = stackDir(CONDITIONS_STACK);
  const flotilla = (args: string[], extra: Record<string, string> = {}) => runCli(['-p', name, ...args], { cwd, env: { ...env, ...extra } });

  it('brings the stack up in dependency order, each service once its condition is met', async () => {
    const result = await flotilla(['up']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const started = result.stderr.split('\n').filter((line) => /✔ container .* Started/.test(line)).map((line) => /container (\S+)/.exec(line)?.[1]);
    expect(started).toEqual([`${name}-db-1`, `${name}-migrate-1`, `${name}-api-1`, `${name}-web-1`]);
    const running = await containers(name);
    expect(running.get('db')?.health).toBe('healthy');
    expect(running.get('migrate')).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(running.get('api')?.state).toBe('running');
    expect(running.get('web')?.state).toBe('running');
    expect(running.get('web')?.labels).toMatchObject({ 'dev.flotilla.project': name, 'dev.flotilla.service': 'web', 'dev.flotilla.replica': '1', 'dev.flotilla.test-run': testRunId });
    expect(running.get('web')?.labels['dev.flotilla.config-hash']).toMatch(/^[0-9a-f]{16}$/);
    expect(running.get('web')?.labels['dev.flotilla.version']).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('changes nothing when run again, and says so in one line', async () => {
    const before = await containers(name);
    const result = await flotilla(['up']);
    expect(result.code).toBe(0);
    expect(result.stderr.trim()).toBe(`Nothing to do: 4 services of ${name} up to date.`);
    const after = await containers(name);
    expect([...after.values()].map((c) => c.id).sort()).toEqual([...before.values()].map((c) => c.id).sort());
  });

  it('shows every container in ps --output json', async () => {
    const result = await flotilla(['ps', '--output', 'json']);
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as { service: string; state: string; health: string | null; imageId: string }[];
    expect(rows.map((row) => row.service)).toEqual(['api', 'db', 'migrate', 'web']);
    expect(rows.find((row) => row.service === 'db')).toMatchObject({ state: 'running', health: 'healthy' });
    expect(rows[0]?.imageId).toMatch(/^sha256:/);
  });

  it('recreates only the service whose config changed', async () => {
    const before = await containers(name);
    const result = await flotilla(['up'], { GREETING: 'changed' });
    expect(result.code).toBe(0);
    const after = await containers(name);
    expect(after.get('api')?.id).not.toBe(before.get('api')?.id);
    for (const service of ['db', 'migrate', 'web']) expect(after.get(service)?.id).toBe(before.get(service)?.id);
    const again = await flotilla(['up'], { GREETING: 'changed' });
    expect(again.stderr).toContain('Nothing to do');
  });

  it('restarts the dependents that ask for it when a dependency is recreated', async () => {
    const before = await containers(name);
    const result = await flotilla(['up', '--force-recreate', 'db', '--dry-run'], { GREETING: 'changed' });
    expect(result.stdout).toContain(`recreate container ${name}-db-1 (--force-recreate)`);
    const apply = await flotilla(['up', '--force-recreate', 'db'], { GREETING: 'changed' });
    expect(apply.code).toBe(0);
    expect(apply.stderr).toMatch(new RegExp(`✔ container ${name}-db-1 +Recreated`));
    const after = await containers(name);
    expect(after.get('db')?.id).not.toBe(before.get('db')?.id);
  });

  it('runs exec, logs, stop and start against the stack', async () => {
    const exec = await flotilla(['exec', '-T', 'api', 'sh', '-c', 'echo "$GREETING"; exit 3']);
    expect(exec.stdout.trim()).toBe('changed');
    expect(exec.code).toBe(3);
    const logs = await flotilla(['logs', 'migrate', '--no-prefix']);
    expect(logs.stdout.trim()).toBe('migrated');
    const stop = await flotilla(['stop', 'web']);
    expect(stop.code).toBe(0);
    expect((await containers(name)).get('web')?.state).toBe('exited');
    const up = await flotilla(['up', '--dry-run']);
    expect(up.stdout).toContain(`start    container ${name}-web-1 (exited)`);
    expect((await flotilla(['start'])).code).toBe(0);
    expect((await containers(name)).get('web')?.state).toBe('running');
  });

  it('removes every container and the network on down', async () => {
    const result = await flotilla(['down']);
    expect(result.code).toBe(0);
    const state = await driver.observe(name);
    expect(state.containers).toEqual([]);
    expect(state.networks).toEqual([]);
    expect((await flotilla(['down'])).stderr).toContain('Nothing to remove');
  });
});

describe('dependency conditions that fail', () => {
  it('fails when a job exits non-zero, shows its last log lines, and never creates its dependents', async () => {
    const name = project();
    const cwd = stackDir(`
services:
  migrate:
    image: debian:bookworm-slim
    command: ["sh", "-c", "echo applying 001; echo 'boom: table exists' >&2; exit 4"]
  api:
    image: debian:bookworm-slim
    command: sleep infinity
    depends_on:
      migrate: { condition: service_completed_successfully }
`);
    const result = await runCli(['-p', name, 'up'], { cwd, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`service migrate: container ${name}-migrate-1 exited with code 4`);
    expect(result.stderr).toContain('boom: table exists');
    expect(result.stderr).toMatch(/service migrate +skipped: dependency migrate failed|service api/);
    expect((await containers(name)).has('api')).toBe(false);
  });

  it('fails when a dependency becomes unhealthy', async () => {
    const name = project();
    const cwd = stackDir(`
services:
  db:
    image: debian:bookworm-slim
    init: true
    command: sleep infinity
    healthcheck: { test: ["CMD", "false"], interval: 1s, timeout: 1s, retries: 2 }
  api:
    image: debian:bookworm-slim
    command: sleep infinity
    depends_on: { db: { condition: service_healthy } }
`);
    const result = await runCli(['-p', name, 'up'], { cwd, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`service db: container ${name}-db-1 is unhealthy`);
    expect((await containers(name)).has('api')).toBe(false);
  });

  it('fails `up --wait` when a service exits before it is healthy', async () => {
    const name = project();
    const cwd = stackDir(`
services:
  crash:
    image: debian:bookworm-slim
    command: sh -c "sleep 1; echo dying; exit 2"
    healthcheck: { test: ["CMD", "true"], interval: 30s, start_period: 30s }
`);
    const result = await runCli(['-p', name, 'up', '--wait'], { cwd, env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`container ${name}-crash-1 exited with code 2`);
    expect(result.stderr).toContain('dying');
  });
});

describe('refusals before anything is created', () => {
  it('names the service and the port when a host port is taken', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const name = project();
      const cwd = stackDir(`
services:
  db:
    image: debian:bookworm-slim
    command: sleep infinity
  web:
    image: debian:bookworm-slim
    command: sleep infinity
    ports: ["127.0.0.1:${port}:80"]
`);
      const result = await runCli(['-p', name, 'up'], { cwd, env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`service web: host port ${port}/tcp is already taken by a process on this host`);
      const state = await driver.observe(name);
      expect([state.containers.length, state.networks.length]).toEqual([0, 0]);
    } finally {
      server.close();
    }
  });

  it('exits 2 on an invalid compose file and creates nothing', async () => {
    const name = project();
    const cwd = stackDir(`
services:
  web:
    image: debian:bookworm-slim
    ports: ["80:80:80"]
`);
    const result = await runCli(['-p', name, 'up'], { cwd, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/compose\.yaml:5:\d+ services\.web\.ports\[0\]/);
    expect((await driver.observe(name)).containers).toEqual([]);
  });

  it('exits 2 on a usage error: an unknown command, a bad option value, a missing argument', async () => {
    const cwd = stackDir('services:\n  web:\n    image: debian:bookworm-slim\n');
    for (const args of [['nosuch'], ['up', '--wait-timeout', 'abc'], ['provenance']]) {
      const result = await runCli(args, { cwd, env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('error:');
    }
  });

  it('says which socket it tried when Docker cannot be reached', async () => {
    const cwd = stackDir('services:\n  web:\n    image: debian:bookworm-slim\n');
    const result = await runCli(['up'], { cwd, env: { ...env, DOCKER_HOST: 'unix:///tmp/flotilla-no-such.sock' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/tmp/flotilla-no-such.sock');
    expect(result.stderr).toContain('hint');
  });
});

describe('an interrupted up', () => {
  const SLOW_STACK = `
services:
  db:
    image: debian:bookworm-slim
    init: true
    command: sh -c "sleep 3; touch /tmp/ready; exec sleep infinity"
    healthcheck: { test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, timeout: 1s, retries: 30 }
  api:
    image: debian:bookworm-slim
    init: true
    command: sleep infinity
    depends_on: { db: { condition: service_healthy } }
    deploy: { replicas: 2 }
`;

  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`converges on the next up after ${signal}: no name conflicts, no duplicates`, async () => {
      const name = project();
      const cwd = stackDir(SLOW_STACK);
      const first = startCli(['-p', name, 'up'], { cwd, env });
      await eventually(async () => ((await containers(name)).get('db')?.state === 'running' ? true : undefined));
      first.child.kill(signal);
      const interrupted = await first.done;
      if (signal === 'SIGINT') expect(interrupted.code).toBe(130);
      else expect(interrupted.signal).toBe('SIGKILL');

      const again = await runCli(['-p', name, 'up', '--wait'], { cwd, env });
      expect(again.stderr).not.toContain('error');
      expect(again.code).toBe(0);
      const state = await driver.observe(name);
      expect(state.containers.map((c) => c.name).sort()).toEqual([`${name}-api-1`, `${name}-api-2`, `${name}-db-1`]);
      expect(state.containers.every((c) => c.state === 'running')).toBe(true);
      expect((await runCli(['-p', name, 'up'], { cwd, env })).stderr).toContain('Nothing to do');
    });
  }
});

describe('orphans', () => {
  it('reports containers of removed services and removes them with --remove-orphans', async () => {
    const name = project();
    const cwd = stackDir('services:\n  a:\n    image: debian:bookworm-slim\n    init: true\n    command: sleep infinity\n  b:\n    image: debian:bookworm-slim\n    init: true\n    command: sleep infinity\n');
    expect((await runCli(['-p', name, 'up'], { cwd, env })).code).toBe(0);
    writeFileSync(join(cwd, 'compose.yaml'), 'services:\n  a:\n    image: debian:bookworm-slim\n    init: true\n    command: sleep infinity\n');
    const report = await runCli(['-p', name, 'up'], { cwd, env });
    expect(report.stderr).toContain(`orphan containers: ${name}-b-1`);
    const remove = await runCli(['-p', name, 'up', '--remove-orphans'], { cwd, env });
    expect(remove.code).toBe(0);
    expect([...(await containers(name)).keys()]).toEqual(['a']);
  });
});
