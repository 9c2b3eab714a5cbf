/**
 * The example shop, end to end: `flotilla up --wait` builds and starts it healthy, the gateway
 * answers on a host port, an order goes through orders into PostgreSQL and reserves stock.
 * `flotilla serve` runs alongside: the services' traces and the agent's shipped logs reach it,
 * and `map`, `traces` and `logs` read them back.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import type { CliResult } from './helpers/cli.js';
import { cliEnv, eventually, runCli, startCli } from './helpers/cli.js';
import { removeByLabel, testRunId } from './helpers/cleanup.js';
import { freePort } from './helpers/ports.js';

const COMPOSE = fileURLToPath(new URL('../../examples/shop/compose.yaml', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const project = `ft${testRunId.slice(0, 8)}-shop`.toLowerCase();
let port = 0;
let env: NodeJS.ProcessEnv;
let overlay = '';
let serve: { child: ChildProcess; done: Promise<CliResult> } | undefined;

const shop = (args: string[]) => runCli(['-f', COMPOSE, '-f', overlay, '-p', project, ...args], { cwd: REPO, env });
const json = <T>(result: CliResult): T => {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
};

beforeAll(async () => {
  port = await freePort();
  const otlpPort = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'shop-serve-'));
  // The collector of this test, not the machine's: its own port and state directory (serve.json, telemetry.db, agent.db).
  env = cliEnv(testRunId, { SHOP_PORT: String(port), FLOTILLA_STATE_DIR: state });
  overlay = join(state, 'telemetry.yaml');
  writeFileSync(overlay, `x-flotilla:\n  telemetry:\n    endpoint: http://host.docker.internal:${otlpPort}\n`);
  serve = startCli(['serve', '--port', String(otlpPort), '--output', 'json'], { cwd: REPO, env });
  await eventually(() => Promise.resolve(readServeUrl(state) ? true : undefined), 30_000);
});

afterAll(async () => {
  await shop(['down', '-v']);
  serve?.child.kill('SIGTERM');
  const stopped = await serve?.done;
  expect(stopped?.code).toBe(0);
  await removeByLabel(testRunId);
});

function readServeUrl(state: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(state, 'serve.json'), 'utf8')) as { url: string }).url;
  } catch {
    return undefined;
  }
}

describe('the example shop', () => {
  it('comes up healthy with one command and prints where the gateway answers', async () => {
    const result = await shop(['up', '--wait']);
    expect(result.stderr).not.toMatch(/error|✘/);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`gateway 3000/tcp on 127.0.0.1:${port}`);
    const state = await createDockerDriver({ env: process.env }).observe(project);
    expect(state.containers.map((c) => [c.service, c.health]).sort()).toEqual([
      ['db', 'healthy'],
      ['gateway', 'healthy'],
      ['inventory', 'healthy'],
      ['orders', 'healthy'],
    ]);
  });

  it('takes an order through the gateway into the database and reserves stock', async () => {
    const base = `http://127.0.0.1:${port}`;
    const before = (await (await fetch(`${base}/stock/widget`)).json()) as { available: number };
    const created = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'widget', quantity: 3 }),
    });
    expect(created.status).toBe(201);
    const order = (await created.json()) as { id: string | number; sku: string; quantity: number };
    expect(order).toMatchObject({ sku: 'widget', quantity: 3 });
    const fetched = await fetch(`${base}/orders/${order.id}`);
    expect(fetched.status).toBe(200);
    const after = (await (await fetch(`${base}/stock/widget`)).json()) as { available: number };
    expect(after.available).toBe(before.available - 3);
    const stored = await shop(['exec', '-T', 'db', 'psql', '-U', 'shop', '-d', 'shop', '-tAc', `select quantity from orders where id = '${order.id}'`]);
    expect(stored.stdout.trim()).toBe('3');
  });

  it('runs every suite of the shop, on Node.js 18 and 20, each in fresh containers; a second run is all cached', async () => {
    const junit = join(mkdtempSync(join(tmpdir(), 'shop-junit-')), 'junit.xml');
    // --force: the shop's state store may hold passing results for the same images from earlier runs.
    const result = await shop(['test', '--force', '--junit', junit, '--output', 'json']);
    expect(result.stderr).not.toContain('✘');
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as { id: string; status: string; tests?: { total: number; failures: number } }[];
    expect(rows.map((row) => row.id).sort()).toEqual(
      ['gateway:unit', 'inventory:unit', 'orders:integration', 'orders:unit'].flatMap((suite) => [`${suite}[NODE_VERSION=18]`, `${suite}[NODE_VERSION=20]`]).sort(),
    );
    for (const row of rows) {
      expect(row.status).toBe('passed');
      expect(row.tests?.total).toBeGreaterThan(0);
      expect(row.tests?.failures).toBe(0);
    }
    expect(readFileSync(junit, 'utf8')).toContain('orders:integration[NODE_VERSION=18]');
    const again = await shop(['test', '--output', 'json']);
    expect((JSON.parse(again.stdout) as { status: string }[]).every((row) => row.status === 'cached')).toBe(true);
  });

  it('shows gateway → orders → inventory → db in `flotilla map`, with counts and latencies', async () => {
    const orders = 12;
    for (let i = 0; i < orders; i += 1) {
      const response = await fetch(`http://127.0.0.1:${port}/orders`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: 'gadget', quantity: 1 }),
      });
      expect(response.status).toBe(201);
    }
    interface Edge { source: string; target: string; via: string; calls: number; p50Ms: number; p99Ms: number }
    // The SDK exports spans every 5 s: wait until every order's calls are in.
    const map = await eventually(async () => {
      const report = json<{ edges: Edge[]; red: { services: { service: string; calls: number }[] } }>(await shop(['map', '--since', '10m', '--output', 'json']));
      const calls = (source: string, target: string) => report.edges.find((edge) => edge.source === source && edge.target === target)?.calls ?? 0;
      return calls('gateway', 'orders') >= orders && calls('orders', 'inventory') >= orders && calls('orders', 'db') >= orders * 2 ? report : undefined;
    }, 60_000);
    const edge = (source: string, target: string) => map.edges.find((candidate) => candidate.source === source && candidate.target === target);
    expect(edge('gateway', 'orders')).toMatchObject({ via: 'service' });
    expect(edge('orders', 'inventory')).toMatchObject({ via: 'service' });
    expect(edge('orders', 'db')).toMatchObject({ via: 'peer' });
    for (const found of [edge('gateway', 'orders'), edge('orders', 'inventory'), edge('orders', 'db')]) {
      expect(found?.p50Ms).toBeGreaterThan(0);
      expect(found?.p99Ms).toBeGreaterThanOrEqual(found?.p50Ms ?? 0);
    }
    expect(map.red.services.map((line) => line.service)).toEqual(expect.arrayContaining(['gateway', 'inventory', 'orders']));
    // Health checks are not traced: every call the map counts was an order or a stock read.
    expect(edge('gateway', 'orders')?.calls).toBeLessThan(orders + 10);

    const text = await shop(['map', '--since', '10m', '--service', 'inventory']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/gateway\s+→\s+orders/);
    expect(text.stdout).toMatch(/orders\s+→\s+db \(not instrumented\)/);
    expect(text.stdout).toMatch(/If inventory fails, these entry points suffer:[\s\S]*gateway: POST \/orders/);
    const dot = await shop(['map', '--since', '10m', '--output', 'dot']);
    expect(dot.stdout).toContain('"orders" -> "inventory"');
  });

  it('draws one order as one trace across the four, and finds its log lines by trace id', async () => {
    const found = json<{ traces: { traceId: string; services: string[]; spans: number }[] }>(
      await shop(['traces', '--service', 'gateway', '--operation', 'POST /orders', '--since', '10m', '--limit', '1', '--output', 'json']),
    );
    const [trace] = found.traces;
    expect(trace?.services).toEqual(['gateway', 'inventory', 'orders']);
    const traceId = trace?.traceId ?? '';
    const { spans } = json<{ spans: { service: string; name: string; kind: string; attributes: Record<string, unknown> }[] }>(
      await shop(['traces', 'show', traceId, '--output', 'json']),
    );
    expect(spans.some((span) => span.service === 'orders' && span.kind === 'CLIENT' && span.attributes['peer.service'] === 'db')).toBe(true);
    const tree = await shop(['traces', 'show', traceId]);
    expect(tree.stdout).toContain(`trace ${traceId}`);
    expect(tree.stdout).toMatch(/gateway: POST \/orders \[server\][\s\S]*orders: POST \/orders \[server\][\s\S]*inventory: POST \/reservations \[server\]/);

    // The agent ships the containers' JSON lines; each request line carries its trace id.
    const lines = await eventually(async () => {
      const result = await shop(['logs', '--trace-id', traceId, '--no-prefix']);
      return result.stdout.split('\n').filter((line) => line.includes('request')).length >= 3 ? result : undefined;
    }, 60_000);
    expect(lines.code).toBe(0);
    const byService = await shop(['logs', 'orders', '--grep', 'request', '--since', '10m', '--tail', '5']);
    expect(byService.stdout.trim().split('\n')).toHaveLength(5);
    expect(byService.stdout).toContain('orders |');
  });

  it('has nothing to do on a second up', async () => {
    const result = await shop(['up']);
    expect(result.code).toBe(0);
    expect(result.stderr.trim()).toBe(`Nothing to do: 4 services of ${project} up to date.`);
  });
});
