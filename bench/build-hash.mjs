// Benchmark: hashing a build context for its version. listContext + hashContext (in process, as
// `flotilla build` runs them) over a 100 MiB context against `tar c -C DIR . | sha256sum` over the
// same files, alternating, page cache warm for both. Target: median ratio at most 2.0. A second
// context of 20,000 small files (where per-file cost dominates) is measured the same way, for
// information. The TypeScript is bundled with esbuild into the work directory first: no build step.
import { randomFillSync } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { alternate, cleanupOnExit, importSource, machine, main, printSummaries, prng, ratio, run, summary, verdict, workDirectory, writeResult } from './lib.mjs';

/** The measured context (the target applies to it) and the per-file-cost one, for information. */
const SHAPES = {
  mixed: { smallFiles: 4000, maxSmallBytes: 16 * 1024, largeFiles: 6, totalBytes: 100 * 1024 * 1024, runs: 9 },
  smallFiles: { smallFiles: 20_000, maxSmallBytes: 4 * 1024, largeFiles: 0, totalBytes: 0, runs: 5 },
};
const BUDGET_MS = 3 * 60_000; // per shape
const TARGET = 2.0;


/** Writes a context: small files (100 B up to `maxSmallBytes`) in 100 directories two levels deep, large ones up to `totalBytes`, some executables and links. */
function createContext(dir, shape) {
  const random = prng(42);
  let written = 0;
  const file = (path, size, mode) => {
    writeFileSync(join(dir, path), randomFillSync(Buffer.allocUnsafe(size)));
    if (mode) chmodSync(join(dir, path), mode);
    written += size;
  };
  writeFileSync(join(dir, 'Dockerfile'), 'FROM debian:bookworm-slim\nCOPY . /app\n');
  for (let d = 0; d < 100; d++) mkdirSync(join(dir, 'src', `pkg${d % 10}`, `mod${d}`), { recursive: true });
  for (let i = 0; i < shape.smallFiles; i++) {
    const d = i % 100;
    file(join('src', `pkg${d % 10}`, `mod${d}`, `file${i}.js`), 100 + Math.floor(random() * (shape.maxSmallBytes - 100)), i % 97 === 0 ? 0o755 : undefined);
  }
  for (let i = 0; i < 20; i++) symlinkSync(`pkg${i % 10}`, join(dir, 'src', `link${i}`));
  mkdirSync(join(dir, 'assets'));
  const large = shape.largeFiles ? Math.floor((shape.totalBytes - written) / shape.largeFiles) : 0;
  for (let i = 0; i < shape.largeFiles; i++) file(join('assets', `blob${i}.bin`), large);
  return { bytes: written, files: shape.smallFiles + shape.largeFiles + 1, links: 20 };
}

/** listContext and hashContext from src/, bundled into `dir` and imported. */
function loadHashing(dir) {
  return importSource(dir, 'build-hash', "export { listContext } from './src/build/context-files.ts';\nexport { hashContext } from './src/build/context-hash.ts';\n", {
    // A CommonJS dependency (@balena/dockerignore) may require() Node's modules.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
}

/** Times listContext + hashContext against tar | sha256sum on a fresh context of `shape`, then removes it. */
async function measure(name, shape, work, { listContext, hashContext }) {
  const context = join(work, name);
  mkdirSync(context);
  const written = createContext(context, shape);
  console.log(`\n${name}: ${written.files} files (${(written.bytes / 2 ** 20).toFixed(1)} MiB) and ${written.links} links`);

  let digest;
  let entries = 0;
  const flotilla = async () => {
    const started = performance.now();
    const listing = await listContext(context, 'Dockerfile');
    const hash = await hashContext(context, listing.entries, listing.dockerfileOutside);
    const ms = performance.now() - started;
    if (digest !== undefined && hash !== digest) throw new Error(`the context hash changed between runs: ${digest} then ${hash}`);
    digest = hash;
    entries = listing.entries.length;
    return ms;
  };
  const tar = async () => (await run('bash', ['-c', 'tar c -C "$0" . | sha256sum >/dev/null', context])).ms;

  // Untimed: warms the page cache for both and the module's code paths.
  await flotilla();
  await tar();
  const samples = await alternate({ flotilla, tar }, { runs: shape.runs, budgetMs: BUDGET_MS });
  if (samples.flotilla.length < 5) throw new Error(`${name}: only ${samples.flotilla.length} runs within the budget; at least 5 are needed`);
  rmSync(context, { recursive: true, force: true });

  const times = { flotilla: summary(samples.flotilla), tar: summary(samples.tar) };
  printSummaries(times);
  const value = ratio(times.flotilla.median, times.tar.median);
  console.log(`  ${entries} entries, ${Math.round(written.bytes / 2 ** 20 / (times.flotilla.median / 1000))} MiB/s, ratio ${value}x`);
  return { shape: { ...shape, ...written, entries }, times, ratio: value };
}

main(async () => {
  const work = workDirectory('build-hash');
  const clean = cleanupOnExit([], [work]);
  const host = machine();
  const hashing = await loadHashing(work);
  console.log('build-hash: listContext + hashContext (in process) vs `tar c -C DIR . | sha256sum`, alternating, cache warm');

  const mixed = await measure('mixed', SHAPES.mixed, work, hashing);
  const smallFiles = await measure('small-files', SHAPES.smallFiles, work, hashing);
  const result = verdict('mixed 100 MiB: listContext + hashContext / tar | sha256sum (median)', mixed.ratio, TARGET);
  console.log(`\n${result.text}`);
  console.log(`info   small files: ${smallFiles.ratio}x`);
  clean();
  writeResult('build-hash', {
    bench: 'build-hash',
    measures: 'wall time of listContext + hashContext over a build context, in process, page cache warm',
    comparator: '`tar c -C DIR . | sha256sum` over the same directory (bash -c, whole pipeline), alternating',
    command: 'node bench/build-hash.mjs',
    machine: host,
    params: { budgetMsPerShape: BUDGET_MS },
    mixed,
    smallFiles,
    ratio: mixed.ratio,
    target: TARGET,
    verdict: result,
  });
});
