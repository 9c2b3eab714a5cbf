/**
 * `flotilla test` against the real Docker Engine: suites run at once without seeing each other,
 * a failing suite fails the command while the others finish, a re-run with no change is cached,
 * a change re-runs only what it affects, matrix cells get their values as build args and
 * environment, and an interrupted run leaves nothing behind.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import { cliEnv, eventually, runCli, startCli } from './helpers/cli.js';
import { removeByLabel, testRunId } from './helpers/cleanup.js';

const driver = createDockerDriver({ env: process.env });
const env = cliEnv(testRunId);
const project = `ft${testRunId.slice(0, 8)}-tests`.toLowerCase();
const repo = mkdtempSync(join(tmpdir(), 'flotilla-tests-'));
const write = (path: string, text: string) => writeFileSync(join(repo, path), text);
const flotilla = (...args: string[]) => runCli(['-p', project, ...args], { cwd: repo, env });

/** Everything a test run creates carries this label; nothing may be left with it after a run. */
async function leftovers(): Promise<string[]> {
  const state = await driver.observeLabelled(`dev.flotilla.test.project=${project}`);
  return [...state.containers.map((c) => c.name), ...state.networks.map((n) => n.name)];
}

const COMPOSE = `
services:
  db:
    image: postgres:15-bookworm
    environment: { POSTGRES_PASSWORD: pw }
    volumes: [data:/var/lib/postgresql/data]
    healthcheck: { test: ["CMD", "pg_isready", "--host", "127.0.0.1", "-U", "postgres"], interval: 1s, timeout: 2s, retries: 30 }
  api:
    build: ./api
    init: true
    command: sleep infinity
    x-flotilla:
      tests:
        ok:
          command: ["sh", "-c", "cat /version.txt"]
        fails:
          command: ["sh", "-c", "echo 'assertion failed: 2 != 3'; exit 3"]
        junit:
          command: ["sh", "-c", "mkdir -p /reports && printf '<testsuite name=\\"unit\\" tests=\\"2\\" failures=\\"0\\"><testcase name=\\"adds\\"/><testcase name=\\"subtracts\\"/></testsuite>' > /reports/junit.xml"]
          junit: /reports/junit.xml
        matrix:
          command: ["sh", "-c", "test \\"$$(cat /flavour.txt)\\" = \\"$$FLAVOUR\\""]
          matrix: { FLAVOUR: [sweet, sour] }
  worker:
    build: ./worker
    init: true
    command: sleep infinity
    x-flotilla:
      tests:
        first:
          image: postgres:15-bookworm
          command: ["sh", "-c", "psql -h db -U postgres -v ON_ERROR_STOP=1 -c 'create table orders (id int)' && psql -h db -U postgres -c 'insert into orders values (1)'"]
          environment: { PGPASSWORD: pw }
          needs: [db]
        calls-api:
          image: debian:bookworm-slim
          command: ["true"]
          needs: [api]
        second:
          image: postgres:15-bookworm
          command: ["sh", "-c", "psql -h db -U postgres -v ON_ERROR_STOP=1 -c 'create table orders (id int)' && psql -h db -U postgres -c 'insert into orders values (2)'"]
          environment: { PGPASSWORD: pw }
          needs: [db]
volumes:
  data:
`;

beforeAll(() => {
  mkdirSync(join(repo, 'api'));
  mkdirSync(join(repo, 'worker'));
  write('compose.yaml', COMPOSE);
  write('api/Dockerfile', 'FROM debian:bookworm-slim\nARG FLAVOUR=plain\nRUN echo "$FLAVOUR" > /flavour.txt\nCOPY version.txt /version.txt\n');
  write('api/version.txt', 'api 1\n');
  write('worker/Dockerfile', 'FROM debian:bookworm-slim\nCOPY version.txt /version.txt\n');
  write('worker/version.txt', 'worker 1\n');
  execFileSync('git', ['init', '-q'], { cwd: repo });
  execFileSync('git', ['add', '.'], { cwd: repo });
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'x'], { cwd: repo });
});

afterAll(async () => {
  await removeByLabel(testRunId);
});

describe('flotilla test', () => {
  it('runs every suite in parallel; a failing suite fails the command while the others finish', async () => {
    const result = await flotilla('test', '--jobs', '4', '--junit', join(repo, 'junit.xml'), '--output', 'json');
    expect(result.code).toBe(1);
    const rows = JSON.parse(result.stdout) as { id: string; status: string; reason?: string }[];
    const status = Object.fromEntries(rows.map((row) => [row.id, row.status]));
    expect(status).toEqual({
      'api:ok': 'passed',
      'api:fails': 'failed',
      'api:junit': 'passed',
      'api:matrix[FLAVOUR=sweet]': 'passed',
      'api:matrix[FLAVOUR=sour]': 'passed',
      // Both create the same table in "their" database: each got a fresh one of its own.
      'worker:first': 'passed',
      'worker:second': 'passed',
      'worker:calls-api': 'passed',
    });
    expect(rows.find((row) => row.id === 'api:fails')?.reason).toBe('exited with code 3');
    expect(result.stderr).toContain('assertion failed: 2 != 3');
    const junit = readFileSync(join(repo, 'junit.xml'), 'utf8');
    expect(junit).toContain('api:junit');
    expect(junit).toContain('subtracts');
    expect(junit).toMatch(/api:fails[\s\S]*exited with code 3/);
    expect(await leftovers()).toEqual([]);
  });

  it('skips as cached every run that passed with the same inputs, and runs the failed one again', async () => {
    const result = await flotilla('test', '--output', 'json');
    expect(result.code).toBe(1);
    const rows = JSON.parse(result.stdout) as { id: string; status: string }[];
    expect(rows.filter((row) => row.status === 'cached').map((row) => row.id).sort()).toEqual(
      ['api:junit', 'api:matrix[FLAVOUR=sour]', 'api:matrix[FLAVOUR=sweet]', 'api:ok', 'worker:calls-api', 'worker:first', 'worker:second'].sort(),
    );
    expect(rows.find((row) => row.id === 'api:fails')?.status).toBe('failed');
  });

  it('re-runs only the suites of the service whose source changed, and those that need it', async () => {
    write('api/version.txt', 'api 2\n');
    const result = await flotilla('test', 'api:ok', 'api:junit', 'worker:first', 'worker:calls-api', '--output', 'json');
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as { id: string; status: string }[];
    expect(Object.fromEntries(rows.map((row) => [row.id, row.status]))).toEqual({
      'api:ok': 'passed',
      'api:junit': 'passed',
      'worker:calls-api': 'passed',
      'worker:first': 'cached',
    });
    const forced = await flotilla('test', 'worker:first', '--force', '--output', 'json');
    expect((JSON.parse(forced.stdout) as { status: string }[])[0]?.status).toBe('passed');
  });

  it('shows in trace which suites passed on the exact image a container runs', async () => {
    write('api/version.txt', 'api 1\n');
    expect((await flotilla('up', 'api')).code).toBe(0);
    const trace = await flotilla('trace', `${project}-api-1`);
    expect(trace.stdout).toMatch(/api:ok +passed/);
    expect(trace.stdout).toMatch(/api:fails +failed/);
    await flotilla('down');
  });

  it('leaves nothing behind when interrupted', async () => {
    write('worker/version.txt', 'worker 2\n');
    const run = startCli(['-p', project, 'test', 'worker:first', 'worker:second', '--force'], { cwd: repo, env });
    await eventually(async () => ((await leftovers()).some((name) => name.includes('-db-')) ? true : undefined), 60_000);
    run.child.kill('SIGINT');
    const ended = await run.done;
    expect(ended.code).toBe(130);
    expect(await leftovers()).toEqual([]);
  });

  it('removes what a killed run left behind on the next run', async () => {
    const run = startCli(['-p', project, 'test', 'worker:first', '--force'], { cwd: repo, env });
    await eventually(async () => ((await leftovers()).some((name) => name.includes('-db-')) ? true : undefined), 60_000);
    run.child.kill('SIGKILL');
    await run.done;
    expect((await leftovers()).length).toBeGreaterThan(0);
    const next = await flotilla('test', 'api:ok');
    expect(next.stderr).toContain('Removed the containers of 1 interrupted test run.');
    expect(await leftovers()).toEqual([]);
  });
});
