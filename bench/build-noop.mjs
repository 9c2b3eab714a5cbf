// Benchmark: deciding that nothing needs rebuilding. `flotilla build` of 20 services that are all
// built already (a whole CLI process: hashing every context, reading git, asking the Engine for the
// version tags) against `docker build` of the same 20 contexts with a warm cache, one after another
// as a script or CI job runs them. Target: at most 0.25x. Alternating A/B, medians.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, cleanupOnExit, machine, main, pairedRatio, printSummaries, ratio, run, runId, snapshotCli, summary, verdict, workDirectory, writeResult } from './lib.mjs';

const SERVICES = 20;
const FILES_PER_SERVICE = 20;
const RUNS = 9;
const BUDGET_MS = 5 * 60_000;
const TARGET = 0.25;

main(async () => {
  const id = runId();
  const dir = workDirectory('build-noop');
  const label = `dev.flotilla.bench=${id}`;
  const project = `bn${id}`;
  const clean = cleanupOnExit([label], [dir]);
  const removeImages = () => {
    const ids = spawnSync('docker', ['images', '-q', '--filter', `label=${label}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) spawnSync('docker', ['rmi', '-f', ...new Set(ids)]);
  };
  process.once('exit', removeImages);
  const cli = await snapshotCli(dir);
  const host = machine();

  // 20 services, each a context of a Dockerfile and 20 small files, committed to a git repository.
  let compose = 'services:\n';
  for (let s = 1; s <= SERVICES; s++) {
    mkdirSync(join(dir, 'app', `s${s}`, 'lib'), { recursive: true });
    writeFileSync(join(dir, 'app', `s${s}`, 'Dockerfile'), 'FROM debian:bookworm-slim\nCOPY . /app/\n');
    for (let f = 1; f <= FILES_PER_SERVICE; f++) writeFileSync(join(dir, 'app', `s${s}`, 'lib', `f${f}.txt`), `service ${s} file ${f}\n`.repeat(100));
    compose += `  s${s}:\n    build: ./s${s}\n`;
  }
  writeFileSync(join(dir, 'app', 'compose.yaml'), compose);
  const git = (...args) => execFileSync('git', ['-C', join(dir, 'app'), '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args]);
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'bench');

  const env = { ...process.env, FLOTILLA_EXTRA_LABELS: label, XDG_CACHE_HOME: join(dir, 'cache') };
  const flotillaBuild = async () => (await run(process.execPath, [cli.bin, '-p', project, 'build'], { cwd: join(dir, 'app'), env })).ms;
  const script = Array.from({ length: SERVICES }, (_, i) => `docker build -q -t ${project}-docker-s${i + 1} --label ${label} s${i + 1} >/dev/null`).join(' && ');
  const dockerBuilds = async () => (await run('bash', ['-c', script], { cwd: join(dir, 'app') })).ms;

  console.log(`build-noop: nothing to rebuild for ${SERVICES} services, flotilla ${cli.version} build vs ${SERVICES} × docker build (warm cache)`);
  // Untimed: build everything once with each tool, so every later run has nothing new to do.
  await run(process.execPath, [cli.bin, '-p', project, 'build'], { cwd: join(dir, 'app'), env, timeoutMs: 300_000 });
  await run('bash', ['-c', script], { cwd: join(dir, 'app'), timeoutMs: 300_000 });
  const said = (await run(process.execPath, [cli.bin, '-p', project, 'build'], { cwd: join(dir, 'app'), env })).stderr.trim();
  if (!said.startsWith('Nothing to build')) throw new Error(`flotilla rebuilt on a no-op run: ${said}`);

  const samples = await alternate({ flotilla: flotillaBuild, docker: dockerBuilds }, { runs: RUNS, budgetMs: BUDGET_MS });
  const times = { flotilla: summary(samples.flotilla), docker: summary(samples.docker) };
  const ratios = { median: ratio(times.flotilla.median, times.docker.median), min: ratio(times.flotilla.min, times.docker.min), pairedMedian: pairedRatio(samples.flotilla, samples.docker) };
  const result = verdict('nothing to rebuild, flotilla build median / docker build median', ratios.median, TARGET);
  printSummaries(times);
  console.log(`  ratio flotilla/docker: median ${ratios.median}x, min ${ratios.min}x, median of per-round ratios ${ratios.pairedMedian}x`);
  console.log(result.text);
  removeImages();
  clean();
  writeResult('build-noop', {
    bench: 'build-noop',
    measures: `wall time of a whole \`flotilla build\` process deciding that none of ${SERVICES} built services needs rebuilding (warm code cache)`,
    comparator: `${SERVICES} × \`docker build -q\` of the same contexts with a warm layer cache, one after another in one bash process, alternating`,
    command: 'node bench/build-noop.mjs',
    machine: host,
    cli: { version: cli.version, sha256: cli.sha256 },
    params: { services: SERVICES, filesPerService: FILES_PER_SERVICE, runs: RUNS, budgetMs: BUDGET_MS },
    times,
    ratios,
    verdict: result,
  });
});
