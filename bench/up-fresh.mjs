// Benchmark 1: `flotilla up` of a 10-service stack of tiny containers from nothing, against
// `docker-compose up -d` (Debian's 1.29) on the same compose file, alternating A/B, whole processes.
// Target: flotilla's median wall time at most 0.6x compose's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, cleanupOnExit, leftovers, machine, main, pairedRatio, reportLeftovers, printSummaries, ratio, run, runId, runningContainers, snapshotCli, summary, tinyStack, verdict, workDirectory, writeResult } from './lib.mjs';

const SERVICES = 10;
const RUNS = 11; // timed runs per tool
const BUDGET_MS = 8 * 60_000; // stop alternating after this, whatever the count
const TARGET = 0.6;

main(async () => {
  const id = runId();
  const dir = workDirectory('up-fresh');
  const label = `dev.flotilla.bench=${id}`;
  const project = { flotilla: `bf${id}`, compose: `bc${id}` };
  const projectLabel = { flotilla: `dev.flotilla.project=${project.flotilla}`, compose: `com.docker.compose.project=${project.compose}` };
  const clean = cleanupOnExit([label, ...Object.values(projectLabel)], [dir]);
  const cli = await snapshotCli(dir);
  const host = machine();
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, tinyStack(SERVICES));

  const env = { ...process.env, FLOTILLA_EXTRA_LABELS: label, XDG_CACHE_HOME: join(dir, 'cache') };
  const tool = {
    flotilla: (...args) => run(process.execPath, [cli.bin, '-f', file, '-p', project.flotilla, ...args], { env, cwd: dir }),
    compose: (...args) => run('docker-compose', ['-f', file, '-p', project.compose, ...args], { cwd: dir }),
  };
  const up = { flotilla: () => tool.flotilla('up'), compose: () => tool.compose('up', '-d') };
  const down = { flotilla: () => tool.flotilla('down'), compose: () => tool.compose('down') };
  const downMs = { flotilla: [], compose: [] };

  /** One timed `up` from nothing, checked to have started every service, then an untimed `down`. */
  const upFromNothing = (name) => async () => {
    const { ms } = await up[name]();
    const running = Object.keys(runningContainers(projectLabel[name])).length;
    if (running !== SERVICES) throw new Error(`${name}: ${running} of ${SERVICES} containers running after up`);
    downMs[name].push((await down[name]()).ms);
    return ms;
  };

  console.log(`up-fresh: up of ${SERVICES} tiny services from nothing, flotilla ${cli.version} vs docker-compose, ${RUNS} alternating runs each`);
  // Warm-up, untimed: the launcher's code cache, the image layers in the page cache.
  for (const name of ['flotilla', 'compose']) {
    await up[name]();
    await down[name]();
  }
  const samples = await alternate({ flotilla: upFromNothing('flotilla'), compose: upFromNothing('compose') }, { runs: RUNS, budgetMs: BUDGET_MS });
  const leftAfterDown = leftovers([label, ...Object.values(projectLabel)]);

  const upTimes = { flotilla: summary(samples.flotilla), compose: summary(samples.compose) };
  const downTimes = { flotilla: summary(downMs.flotilla), compose: summary(downMs.compose) };
  const ratios = {
    median: ratio(upTimes.flotilla.median, upTimes.compose.median),
    min: ratio(upTimes.flotilla.min, upTimes.compose.min),
    pairedMedian: pairedRatio(samples.flotilla, samples.compose),
  };
  const result = verdict('up from nothing, flotilla/compose median', ratios.median, TARGET);

  console.log('up (timed, from nothing):');
  printSummaries(upTimes);
  console.log(`  ratio flotilla/compose: median ${ratios.median}x, min ${ratios.min}x, median of per-round ratios ${ratios.pairedMedian}x`);
  console.log('down (untimed for the target, for reference):');
  printSummaries(downTimes);
  reportLeftovers(leftAfterDown, 'the tools’ own down');
  console.log(result.text);

  writeResult('up-fresh', {
    bench: 'up-fresh',
    measures: `wall time of a whole \`up\` process creating and starting ${SERVICES} services from nothing (warm code cache)`,
    comparator: `docker-compose ${host.dockerCompose} up -d, same compose file, alternating`,
    command: 'node bench/up-fresh.mjs',
    machine: host,
    cli: { version: cli.version, bundleSha256: cli.sha256 },
    params: { services: SERVICES, runs: RUNS, budgetMs: BUDGET_MS },
    up: upTimes,
    down: downTimes,
    ratio: ratios,
    verdict: result,
    leftAfterDown,
  });
  clean();
});
