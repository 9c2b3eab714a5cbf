/**
 * `flotilla chaos run` as the command runs it, with its signals injected: SIGTERM stops the
 * experiment and rolls back like Ctrl-C, a Ctrl-C during the rollback only warns, and faults go
 * to the proxies of the Compose file's project, never to another project's service of that name.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from 'vitest';
import type { ExperimentReport } from '../../../src/chaos/index.js';
import { runOne } from '../../../src/cli/commands/chaos.js';
import type { GlobalOptions } from '../../../src/cli/context.js';
import { ExitCode } from '../../../src/core/errors.js';
import { driverDiscovery } from '../../../src/mesh/control-plane-discovery.js';
import { startControlPlane, type StartedControlPlane } from '../../../src/mesh/control-plane.js';
import { startService, type FakeService } from '../chaos/fakes.js';
import { fakeMeshDriver, startFakeContainer, type FakeContainer } from '../mesh/control-plane-helpers.js';
import { closeAll, eventually, startEchoServer } from '../mesh/net-helpers.js';

let dir: string;
let shop: FakeContainer;
let blog: FakeContainer;
let plane: StartedControlPlane;
let service: FakeService;
let stdout: MockInstance<typeof process.stdout.write>;
let stderr: MockInstance<typeof process.stderr.write>;
let exit: MockInstance<typeof process.exit>;
const err = (): string => stderr.mock.calls.map(([text]) => String(text)).join('');
const toxicsOf = (container: FakeContainer): string[] => container.registry.get('api').toxics.list().map((toxic) => toxic.name);

beforeEach(async () => {
  const echo = await startEchoServer();
  // `api` is meshed in two projects on the same Engine; the experiment's Compose project is shop.
  shop = await startFakeContainer('shop', 'api', [{ name: 'api', listen: '127.0.0.1:0', upstream: echo.address }], { token: 'shop-token' });
  blog = await startFakeContainer('blog', 'api', [{ name: 'api', listen: '127.0.0.1:0', upstream: echo.address }], { token: 'blog-token' });
  // Blog's own fault, named as shop's experiment names its own: it must survive shop's preflight and rollback.
  blog.registry.get('api').toxics.add({ name: 'chaos-cut-1', type: 'latency', attributes: { latency: 1 } });
  plane = await startControlPlane({ port: 0, discovery: driverDiscovery(fakeMeshDriver([shop, blog])) });
  service = await startService();
  dir = await mkdtemp(path.join(tmpdir(), 'flotilla-chaos-cli-'));
  await writeFile(path.join(dir, 'compose.yaml'), 'name: shop\nservices:\n  api: { image: api }\n');
  await writeFile(
    path.join(dir, 'experiments.yaml'),
    `cut:
  hypothesis:
    - http: { url: "${service.url}/", expect: { status: 200 } }
  method:
    - fault: { service: api, toxic: { type: latency, attributes: { latency: 1 } } }
    - fault: { service: api, at: 20s, toxic: { name: later, type: latency, stream: upstream, attributes: { latency: 1 } } }
`,
  );
  vi.stubEnv('FLOTILLA_MESH_API', plane.url);
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await plane.close();
  await Promise.all([shop.close(), blog.close(), service.close()]);
  await closeAll();
  await rm(dir, { recursive: true, force: true });
});

describe('chaos run, interrupted', () => {
  test('SIGTERM aborts and rolls back; a Ctrl-C during the rollback warns and the rollback finishes; only the project’s proxy is touched', async () => {
    const signals = new EventEmitter();
    const global: GlobalOptions = { file: [], envFile: [], profile: [], projectDirectory: dir };
    // The second interrupt arrives as the rollback starts.
    stderr.mockImplementation((text) => {
      if (String(text).includes('» rolling back')) signals.emit('SIGINT');
      return true;
    });
    const running = runOne('cut', { file: [path.join(dir, 'experiments.yaml')], output: 'json' }, global, { signals });

    // The fault is in place in shop's proxy (not blog's, and not refused as ambiguous): now SIGTERM.
    await eventually(() => toxicsOf(shop).includes('chaos-cut-1'), 10_000);
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    signals.emit('SIGTERM');

    expect(await running).toBe(ExitCode.interrupted);
    const report = JSON.parse(stdout.mock.calls.map(([text]) => String(text)).join('')) as ExperimentReport;
    expect(report.verdict).toBe('aborted');
    expect(report.method.map((step) => [step.step, step.status])).toEqual([['method[0]', 'reverted']]);
    expect(report.rollbacks.map((step) => [step.step, step.status])).toEqual([['undo method[0]', 'done']]);
    expect(toxicsOf(shop)).toEqual([]);
    expect(toxicsOf(blog)).toEqual(['chaos-cut-1']);
    expect(err()).toMatch(/Interrupted: stopping, then rolling back/);
    expect(err()).toMatch(/Still rolling back/);
    expect(exit).not.toHaveBeenCalled();
    // The command let go of the signals once done.
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });
});
