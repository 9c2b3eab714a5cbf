/**
 * Issue #6's proof, end to end on the real Engine: the shop behind the mesh survives 20% of its
 * orders → inventory reservations dropped and 20% duplicated — every order stored once, the stock
 * exact — and the same experiment fails the shop with SHOP_IDEMPOTENCY=off, so it is known to
 * catch the bug. `flotilla serve` runs alongside for the mesh API the faults go through.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from './helpers/cli.js';
import { cliEnv, eventually, runCli, startCli } from './helpers/cli.js';
import { removeByLabel, testRunId } from './helpers/cleanup.js';
import { freePort } from './helpers/ports.js';

const SHOP = fileURLToPath(new URL('../../examples/shop/', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const project = `ft${testRunId.slice(0, 8)}-chaos`.toLowerCase();
let env: NodeJS.ProcessEnv;
let state = '';
let otlpPort = 0;
let shopPort = 0;
let serve: { child: ChildProcess; done: Promise<CliResult> } | undefined;

const shop = (args: string[], extra: Record<string, string> = {}) =>
  runCli(['-f', join(SHOP, 'compose.yaml'), '-f', join(SHOP, 'compose.mesh.yaml'), '-p', project, ...args], { cwd: REPO, env: { ...env, ...extra } });

interface Report {
  verdict: string;
  reason: string;
  hypothesis: { before: { ok: boolean }[]; after: { ok: boolean; value: unknown }[] };
  load?: { sent: number; statuses: Record<string, number> };
  errors: string[];
}

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), 'shop-chaos-'));
  [shopPort, otlpPort] = [await freePort(), await freePort()];
  const meshPort = await freePort();
  env = cliEnv(testRunId, {
    FLOTILLA_STATE_DIR: state,
    SHOP_PORT: String(shopPort),
    SHOP_STOCK: 'widget=100000,gadget=50,gizmo=5',
    FLOTILLA_MESH_API: `http://127.0.0.1:${meshPort}`,
  });
  // No agent: this test is about the mesh, and the agent would follow every container of the Engine.
  serve = startCli(['serve', '--no-agent', '--port', String(otlpPort), '--mesh-port', String(meshPort), '--output', 'json'], { cwd: REPO, env });
  await eventually(() => Promise.resolve(serveStarted(state) ? true : undefined), 30_000);
});

function serveStarted(state: string): boolean {
  try {
    return readFileSync(join(state, 'serve.json'), 'utf8').includes('"url"');
  } catch {
    return false;
  }
}

afterAll(async () => {
  await shop(['down', '-v']);
  serve?.child.kill('SIGTERM');
  await serve?.done;
  await removeByLabel(testRunId);
});

async function experiment(extra: Record<string, string> = {}): Promise<{ result: CliResult; report: Report }> {
  const up = await shop(['up', '--wait'], extra);
  expect(up.code).toBe(0);
  const result = await shop(['chaos', 'run', 'survives-drops-and-duplicates', '--output', 'json'], extra);
  return { result, report: JSON.parse(result.stdout) as Report };
}

describe('the shop behind the mesh, under drops and duplicates', () => {
  it('survives: the audit holds before and after a few hundred orders, with faults on 20% of reservations each', async () => {
    const { result, report } = await experiment();
    expect(report.errors).toEqual([]);
    expect(report.verdict, report.reason).toBe('passed');
    expect(result.code).toBe(0);
    expect(report.load?.sent).toBeGreaterThan(100);
    expect(report.hypothesis.after.every((probe) => probe.ok)).toBe(true);
  });

  it('fails the same experiment without idempotency keys: the audit finds stock reserved twice', async () => {
    const { result, report } = await experiment({ SHOP_IDEMPOTENCY: 'off' });
    expect(report.verdict, report.reason).toBe('failed');
    expect(result.code).toBe(1);
    expect(report.hypothesis.before.every((probe) => probe.ok)).toBe(true);
    expect(report.hypothesis.after.some((probe) => !probe.ok)).toBe(true);
  });

  it('draws the calls of services with no instrumentation at all, from the mesh\'s own metrics', async () => {
    // The services' own SDKs off; the proxies send to this test's collector.
    const overlay = join(state, 'no-sdk.yaml');
    const quiet = { environment: { OTEL_SDK_DISABLED: 'true' } };
    writeFileSync(overlay, JSON.stringify({
      'x-flotilla': { telemetry: { endpoint: `http://host.docker.internal:${otlpPort}` } },
      services: { gateway: quiet, orders: quiet, inventory: quiet },
    }));
    const run = (args: string[]) => runCli(
      ['-f', join(SHOP, 'compose.yaml'), '-f', join(SHOP, 'compose.mesh.yaml'), '-f', overlay, '-p', project, ...args],
      { cwd: REPO, env },
    );
    expect((await run(['up', '--wait'])).code).toBe(0);
    for (let i = 0; i < 10; i += 1) {
      const response = await fetch(`http://127.0.0.1:${shopPort}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'widget', quantity: 1 }) });
      expect(response.status).toBe(201);
    }
    interface Edge { source: string; target: string; calls: number; p50Ms: number }
    const edges = await eventually(async () => {
      const result = await run(['map', '--since', '10m', '--output', 'json']);
      const found = (JSON.parse(result.stdout) as { edges: Edge[] }).edges;
      const calls = (source: string, target: string) => found.find((edge) => edge.source === source && edge.target === target)?.calls ?? 0;
      return calls('gateway', 'orders') >= 10 && calls('orders', 'inventory') >= 10 ? found : undefined;
    }, 60_000);
    expect(edges.find((edge) => edge.source === 'gateway' && edge.target === 'orders')?.p50Ms).toBeGreaterThan(0);
  });
});
