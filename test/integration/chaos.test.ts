/**
 * Chaos experiments against the real Docker Engine: a small stack brought up with the CLI, one
 * service answering HTTP on a published port. Pausing it under load breaks the answers while it
 * lasts and the hypothesis holds again after; stopping it breaks the hypothesis, and the rollback
 * starts it again. (Fault steps through the mesh are in shop-chaos.test.ts.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createContainerActions, createProbeRunner, runExperiment, sendHttp, systemClock } from '../../src/chaos/index.js';
import { run as chaosCommand } from '../../src/cli/commands/chaos.js';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import { loadExperimentFiles } from '../../src/spec/index.js';
import type { ExperimentSpec } from '../../src/spec/types.js';
import { cliEnv, eventually, runCli, stackDir } from './helpers/cli.js';
import { removeByLabel, testRunId } from './helpers/cleanup.js';
import { writeFileSync } from 'node:fs';
import { freePort } from './helpers/ports.js';

const driver = createDockerDriver({ env: process.env });
const name = `ft${testRunId.slice(0, 8)}-chaos`.toLowerCase();
let port = 0;
let cwd = '';

const SERVER = "require('http').createServer((q, s) => s.end(JSON.stringify({ ok: true, pid: process.pid }))).listen(8080)";

beforeAll(async () => {
  port = await freePort();
  cwd = stackDir(`
services:
  web:
    image: node:20-bookworm-slim
    init: true
    command: ["node", "-e", "${SERVER.replace(/"/g, '\\"')}"]
    ports: ["127.0.0.1:${port}:8080"]
`);
  const up = await runCli(['-p', name, 'up'], { cwd, env: cliEnv(testRunId) });
  expect(up.stderr).not.toContain('error');
  expect(up.code).toBe(0);
  await eventually(async () => ((await sendHttp({ url: `http://127.0.0.1:${port}/`, method: 'GET', headers: {}, timeout: '1s' })) as { status?: number }).status === 200 || undefined);
});

afterAll(async () => {
  await removeByLabel(testRunId);
});

async function experiment(yaml: string): Promise<ExperimentSpec> {
  const file = join(cwd, 'experiments.yaml');
  writeFileSync(file, yaml);
  const loaded = await loadExperimentFiles([file], { cwd, env: { PORT: String(port) }, services: ['web'] });
  const [first] = Object.values(loaded);
  if (!first) throw new Error('no experiment');
  return first.experiment;
}

function deps() {
  const containers = createContainerActions(driver, name);
  return { clock: systemClock, probes: createProbeRunner({ clock: systemClock, send: sendHttp, containers }), containers, send: sendHttp };
}

describe('a container action under load', () => {
  it('passes when the paused service answers again once it is unpaused; the load saw the pause', async () => {
    const spec = await experiment(`
pause-web:
  hypothesis:
    - http: { url: "http://127.0.0.1:\${PORT}/", expect: { status: 200, json: { ok: true } } }
    - command: { service: web, run: [node, -e, "process.stdout.write('alive')"], expect: { stdout_contains: alive } }
  load: { http: { url: "http://127.0.0.1:\${PORT}/", timeout: 400ms }, rate: 20, duration: 2s, concurrency: 20 }
  method:
    - container: { service: web, action: pause, at: 500ms, duration: 800ms }
`);
    const report = await runExperiment(spec, deps());

    expect(report.errors).toEqual([]);
    expect(report.verdict).toBe('passed');
    expect(report.method).toMatchObject([{ step: 'method[0]', status: 'reverted', targets: [`${name}-web-1`] }]);
    // Requests sent while it was frozen timed out; the others were answered.
    expect(report.load?.statuses['timeout']).toBeGreaterThan(3);
    expect(report.load?.statuses['200']).toBeGreaterThan(5);
    expect(report.load?.sent).toBeLessThanOrEqual(40);
    const [web] = (await driver.observe(name)).containers;
    expect(web?.state).toBe('running');
  });

  it('cuts the service off its network and puts it back: its alias resolves and its port answers again', async () => {
    const spec = await experiment(`
cut-web:
  hypothesis:
    - http: { url: "http://127.0.0.1:\${PORT}/", timeout: 2s }
    - command: { service: web, run: [node, -e, "require('dns').lookup('web', (e) => process.exit(e ? 1 : 0))"] }
  method:
    - network: { service: web, cut: true, duration: 500ms }
`);
    const report = await runExperiment(spec, deps());

    expect(report.errors).toEqual([]);
    expect(report.method).toMatchObject([{ status: 'reverted' }]);
    expect(report.verdict).toBe('passed');
  });

  it('fails when the stopped service stays down, and the rollback starts it again (through the chaos command)', async () => {
    writeFileSync(
      join(cwd, 'experiments.yaml'),
      `
stop-web:
  hypothesis:
    - http: { url: "http://127.0.0.1:${port}/", timeout: 1s }
  method:
    - container: { service: web, action: stop }
  rollbacks:
    - container: { service: web, action: start }
`,
    );
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const previous = process.cwd();
    let code: number;
    try {
      process.chdir(cwd);
      code = await chaosCommand('run', 'stop-web', { file: ['experiments.yaml'], output: 'json' }, { file: [], projectName: name, envFile: [], profile: [] });
    } finally {
      process.chdir(previous);
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const report = JSON.parse(written.join('')) as { verdict: string; hypothesis: { after: { ok: boolean; detail?: string }[] }; rollbacks: { step: string; status: string }[] };
    expect(code).toBe(1);
    expect(report.verdict).toBe('failed');
    expect(report.hypothesis.after[0]).toMatchObject({ ok: false });
    expect(report.rollbacks).toMatchObject([{ step: 'rollbacks[0]', status: 'done' }]);
    const [web] = (await driver.observe(name)).containers;
    expect(web?.state).toBe('running');
  });
});
