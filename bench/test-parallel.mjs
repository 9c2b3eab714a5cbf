// Benchmark: `flotilla test` of 20 independent suites that each sleep 2 s in a container.
// Target: wall time with --jobs 4 within 1.3x of the ideal (the total, 40 s, divided by 4, plus one
// container start, measured in the same run), and a fully cached re-run under 1 s for the whole
// CLI process. Compared with running the same suites one by one with `docker-compose run --rm`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupOnExit, machine, main, printSummaries, run, runId, snapshotCli, summary, verdict, workDirectory, writeResult } from './lib.mjs';

const SUITES = 20;
const SLEEP_S = 2;
const JOBS = 4;
const RUNS = 3;
const COMPOSE_RUNS = 1;
const CACHED_RUNS = 11;
const START_RUNS = 5;

main(async () => {
  const id = runId();
  const dir = workDirectory('test-parallel');
  const label = `dev.flotilla.bench=${id}`;
  const project = `tp${id}`;
  const clean = cleanupOnExit([label, `dev.flotilla.test.project=${project}`, `com.docker.compose.project=${project}c`], [dir]);
  const cli = await snapshotCli(dir);
  const host = machine();
  let yaml = 'services:\n  app:\n    image: debian:bookworm-slim\n    init: true\n    command: sleep infinity\n    x-flotilla:\n      tests:\n';
  for (let i = 1; i <= SUITES; i++) yaml += `        s${i}: { command: [sleep, "${SLEEP_S}"] }\n`;
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  const env = { ...process.env, FLOTILLA_EXTRA_LABELS: label, XDG_CACHE_HOME: join(dir, 'cache') };
  const flotilla = (...args) => run(process.execPath, [cli.bin, '-p', project, ...args], { cwd: dir, env, timeoutMs: 300_000 });

  console.log(`test-parallel: ${SUITES} suites sleeping ${SLEEP_S}s, flotilla ${cli.version} test --jobs ${JOBS} vs the ideal and docker-compose run --rm`);
  // One container start: create, start, wait and remove a container that exits at once.
  const starts = [];
  for (let i = 0; i < START_RUNS; i++) starts.push((await run('docker', ['run', '--rm', '--label', label, 'debian:bookworm-slim', 'true'])).ms);
  await flotilla('test', '--force', '--jobs', String(JOBS)); // untimed warm-up: code cache, image look-ups
  const parallel = [];
  for (let i = 0; i < RUNS; i++) parallel.push((await flotilla('test', '--force', '--jobs', String(JOBS))).ms);
  const cached = [];
  for (let i = 0; i < CACHED_RUNS; i++) {
    const result = await flotilla('test');
    if (!/0 passed, 0 failed, 20 cached/.test(result.stderr)) throw new Error(`expected every run cached: ${result.stderr.slice(-300)}`);
    cached.push(result.ms);
  }
  const sequential = [];
  for (let i = 0; i < COMPOSE_RUNS; i++) {
    const script = Array.from({ length: SUITES }, () => `docker-compose -p ${project}c run --rm app sleep ${SLEEP_S} >/dev/null 2>&1`).join(' && ');
    sequential.push((await run('bash', ['-c', script], { cwd: dir, timeoutMs: 600_000 })).ms);
  }
  await run('docker-compose', ['-p', `${project}c`, 'down'], { cwd: dir, check: false });

  const times = { containerStart: summary(starts), flotillaJobs4: summary(parallel), flotillaCached: summary(cached), composeRunOneByOne: summary(sequential) };
  const ideal = (SUITES * SLEEP_S * 1000) / JOBS + times.containerStart.median;
  const ratioToIdeal = Math.round((times.flotillaJobs4.median / ideal) * 100) / 100;
  const verdicts = [
    verdict(`--jobs ${JOBS} wall time / ideal (${Math.round(ideal)} ms)`, ratioToIdeal, 1.3),
    verdict('fully cached re-run, whole process', Math.round(times.flotillaCached.median), 1000, ' ms'),
  ];
  printSummaries(times);
  console.log(`  ideal: ${SUITES} × ${SLEEP_S}s / ${JOBS} + one container start = ${Math.round(ideal)} ms`);
  console.log(`  flotilla --jobs ${JOBS} vs docker-compose run --rm one by one: ${Math.round((times.flotillaJobs4.median / times.composeRunOneByOne.median) * 100) / 100}x`);
  for (const v of verdicts) console.log(v.text);
  clean();
  writeResult('test-parallel', {
    bench: 'test-parallel',
    measures: `wall time of whole \`flotilla test\` processes: ${SUITES} suites each sleeping ${SLEEP_S}s with --jobs ${JOBS} (forced), and the fully cached re-run`,
    comparator: `the ideal (${SUITES}×${SLEEP_S}s/${JOBS} + one container start, measured as docker run --rm true); docker-compose 1.29 run --rm of each suite one by one`,
    command: 'node bench/test-parallel.mjs',
    machine: host,
    cli: { version: cli.version, sha256: cli.sha256 },
    params: { suites: SUITES, sleepSeconds: SLEEP_S, jobs: JOBS, runs: RUNS, cachedRuns: CACHED_RUNS, composeRuns: COMPOSE_RUNS },
    times,
    idealMs: Math.round(ideal),
    ratioToIdeal,
    verdicts,
  });
});
