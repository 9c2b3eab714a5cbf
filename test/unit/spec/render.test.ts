/**
 * `flotilla config` output: golden files for a realistic stack (regenerate with UPDATE_GOLDEN=1
 * and review the diff), plus properties every rendering must have.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadStack, renderStack, type LoadOptions, type Stack } from '../../../src/spec/index.js';
import { HOME } from './helpers.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/spec');
const shop = path.join(fixtures, 'shop');

async function loadShop(options: Partial<LoadOptions> = {}): Promise<Stack> {
  return loadStack({ cwd: shop, env: { HOME }, ...options });
}

/** Fixture paths differ per checkout; the golden files say `<fixtures>`. */
function portable(text: string): string {
  return text.split(fixtures).join('<fixtures>');
}

async function expectGolden(name: string, actual: string): Promise<void> {
  const file = path.join(fixtures, name);
  if (process.env['UPDATE_GOLDEN'] === '1') await writeFile(file, actual);
  expect(actual).toBe(await readFile(file, 'utf8'));
}

describe('renderStack', () => {
  it('renders the shop stack as Compose YAML (golden)', async () => {
    await expectGolden('shop.golden.yaml', portable(renderStack(await loadShop(), 'yaml')));
  });

  it('renders the shop stack with the jobs profile (golden)', async () => {
    await expectGolden('shop-jobs.golden.yaml', portable(renderStack(await loadShop({ profiles: ['jobs'] }), 'yaml')));
  });

  it('renders JSON with the same content and key order as the YAML', async () => {
    const stack = await loadShop();
    const json = renderStack(stack, 'json');
    const fromYaml = parse(renderStack(stack, 'yaml')) as unknown;
    expect(JSON.parse(json)).toEqual(fromYaml);
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'x-flotilla', 'x-common']);
    expect(json.endsWith('}\n')).toBe(true);
  });

  it('is a fixed point: the output loads back to a stack that renders the same', async () => {
    const first = renderStack(await loadShop(), 'yaml');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-render-'));
    try {
      await writeFile(path.join(dir, 'compose.yaml'), first);
      const again = await loadStack({ cwd: dir, env: { HOME } });
      expect(renderStack(again, 'yaml')).toBe(first);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not depend on the order services, keys and variables are written in', async () => {
    const a = `services:\n  b:\n    image: x\n    environment: {Z: "1", A: "2"}\n  a:\n    labels: [y=1, x=2]\n    image: y\n`;
    const b = `services:\n  a:\n    image: y\n    labels: {x: "2", y: "1"}\n  b:\n    environment: [A=2, Z=1]\n    image: x\n`;
    const render = async (text: string): Promise<string> => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'flotilla-order-'));
      try {
        await writeFile(path.join(dir, 'compose.yaml'), `name: same\n${text}`);
        return renderStack(await loadStack({ cwd: dir, env: { HOME } }), 'yaml');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
    expect(await render(a)).toBe(await render(b));
  });
});
