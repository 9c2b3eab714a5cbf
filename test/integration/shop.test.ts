/**
 * The example shop, end to end: `flotilla up --wait` builds and starts it healthy, the gateway
 * answers on a host port, an order goes through orders into PostgreSQL and reserves stock.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { removeByLabel, testRunId } from './helpers/cleanup.js';

const COMPOSE = fileURLToPath(new URL('../../examples/shop/compose.yaml', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const project = `ft${testRunId.slice(0, 8)}-shop`.toLowerCase();
let port = 0;
let env: NodeJS.ProcessEnv;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: found } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return found;
}

const shop = (args: string[]) => runCli(['-f', COMPOSE, '-p', project, ...args], { cwd: REPO, env });

beforeAll(async () => {
  port = await freePort();
  env = cliEnv(testRunId, { SHOP_PORT: String(port) });
});

afterAll(async () => {
  await shop(['down', '-v']);
  await removeByLabel(testRunId);
});

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

  it('has nothing to do on a second up', async () => {
    const result = await shop(['up']);
    expect(result.code).toBe(0);
    expect(result.stderr.trim()).toBe(`Nothing to do: 4 services of ${project} up to date.`);
  });
});
