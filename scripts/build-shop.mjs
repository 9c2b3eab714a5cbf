#!/usr/bin/env node
// Bundles each service of the example shop, examples/shop/<service>/src/index.ts, into
// examples/shop/<service>/dist/index.js: one ESM file for Node 20 with its dependencies (pg)
// inside, so the service images need only copy dist/ onto node:20-bookworm-slim.
// Called by `npm run build`; run it alone with `node scripts/build-shop.mjs`.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const shop = fileURLToPath(new URL('../examples/shop/', import.meta.url));
const started = Date.now();

const services = (await readdir(shop, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory() && existsSync(path.join(shop, entry.name, 'src', 'index.ts')))
  .map((entry) => entry.name)
  .sort();
if (services.length === 0) throw new Error(`no service found in ${shop} (expected <service>/src/index.ts)`);

await Promise.all(
  services.map(async (service) => {
    const dist = path.join(shop, service, 'dist');
    const outfile = path.join(dist, 'index.js');
    await mkdir(dist, { recursive: true });
    await build({
      entryPoints: [path.join(shop, service, 'src', 'index.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      // pg loads pg-native only when asked for it; the shop never asks.
      external: ['pg-native'],
      // Bundled CommonJS (pg) calls require() for Node built-ins; ESM has none of its own.
      banner: {
        js: "import { createRequire as __shopCreateRequire } from 'node:module'; const require = __shopCreateRequire(import.meta.url);",
      },
      legalComments: 'none',
      logLevel: 'warning',
    });
    // dist/ is ESM wherever it is copied, whatever package.json sits above it.
    await writeFile(path.join(dist, 'package.json'), '{ "type": "module" }\n');
    const { size } = await stat(outfile);
    process.stderr.write(`[build-shop] ${service}: ${path.relative(process.cwd(), outfile)} (${Math.round(size / 1024)} KiB)\n`);
  }),
);
process.stderr.write(`[build-shop] ${services.length} services bundled in ${Date.now() - started} ms\n`);
