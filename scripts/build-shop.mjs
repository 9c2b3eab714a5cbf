#!/usr/bin/env node
// Bundles each service of the example shop for its image:
//   examples/shop/<service>/src/index.ts        -> <service>/dist/index.js
//   examples/shop/<service>/test/**/*.test.ts   -> <service>/dist/test/**/*.test.js (unit/, integration/)
//   examples/shop/shared/junit-reporter.mjs     -> <service>/dist/junit-reporter.mjs
// ESM files for Node 18 and 20 with their dependencies (pg, the OpenTelemetry SDK) inside, so a service image needs
// only copy dist/ onto node:<version>-bookworm-slim; `node dist/index.js` starts the service,
// `node --test dist/test/unit/` runs its unit tests (see the suites in compose.yaml).
// Called by `npm run build`; run it alone with `node scripts/build-shop.mjs`.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const shop = fileURLToPath(new URL('../examples/shop/', import.meta.url));
const reporter = path.join(shop, 'shared', 'junit-reporter.mjs');
const started = Date.now();

/** What every bundle shares: ESM for Node 18+ with pg inside. */
const common = {
  bundle: true,
  platform: 'node',
  // The images run Node 20 by default and Node 18 in the test matrix (NODE_VERSION build arg).
  target: 'node18',
  format: 'esm',
  // ESM builds first where a package has both (the OpenTelemetry SDK does): esbuild can drop
  // what is not used from those, and cannot from CommonJS. Node's default order is the reverse.
  mainFields: ['module', 'main'],
  // pg loads pg-native only when asked for it; the shop never asks.
  external: ['pg-native'],
  // Bundled CommonJS (pg) calls require() for Node built-ins; ESM has none of its own.
  banner: {
    js: "import { createRequire as __shopCreateRequire } from 'node:module'; const require = __shopCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
};

/** Files under `dir` (recursively) whose names end with `suffix`, sorted. */
async function filesEndingWith(dir, suffix) {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

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
    await build({ ...common, entryPoints: [path.join(shop, service, 'src', 'index.ts')], outfile });

    // Tests: bundled afresh, so a test that was removed does not linger in the image.
    const testDir = path.join(shop, service, 'test');
    const tests = await filesEndingWith(testDir, '.test.ts');
    await rm(path.join(dist, 'test'), { recursive: true, force: true });
    if (tests.length > 0) {
      await build({ ...common, entryPoints: tests, outbase: testDir, outdir: path.join(dist, 'test') });
    }
    await copyFile(reporter, path.join(dist, 'junit-reporter.mjs'));

    // dist/ is ESM wherever it is copied, whatever package.json sits above it.
    await writeFile(path.join(dist, 'package.json'), '{ "type": "module" }\n');
    const { size } = await stat(outfile);
    process.stderr.write(
      `[build-shop] ${service}: ${path.relative(process.cwd(), outfile)} (${Math.round(size / 1024)} KiB), ${tests.length} test file${tests.length === 1 ? '' : 's'}\n`,
    );
  }),
);
process.stderr.write(`[build-shop] ${services.length} services bundled in ${Date.now() - started} ms\n`);
