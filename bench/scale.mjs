// Benchmark 3: `flotilla config` and `flotilla up --dry-run` against RUNNING stacks of 50, 100 and
// 200 services (and 1, to measure the fixed start-up cost), whole processes. Targets: each under
// 1 s at 200 services, and the cost above start-up linear in the number of services.
// `docker-compose config` on the same files is the comparator for `config` (compose 1.29 has no
// dry run). All stacks run at once and the commands are timed round-robin across sizes, so drift
// on a shared machine falls on every size alike.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, canMeasureCpu, cleanupOnExit, fitLine, freePorts, leftovers, machine, main, reportLeftovers, median, printSummaries, ratio, run, runId, runningContainers, snapshotCli, summary, verdict, workDirectory, writeResult } from './lib.mjs';

const SIZES = [1, 50, 100, 200];
const RUNS = 15; // rounds; each times every command on every size once
const BUDGET_MS = 10 * 60_000;
const UP_TIMEOUT_MS = 15 * 60_000; // the real `up` of one stack
const TARGET_MS = 1000;
// (t200 − t1) / (t100 − t1) is 2.0 when linear and 4.0 when quadratic; 2.3 leaves room for noise.
const LINEAR_CEILING = 2.3;

/** A stack of `count` tiny services with the variety of a real one. `ports` are free host ports. */
function stack(count, ports) {
  let yaml = 'services:\n';
  for (let i = 1; i <= count; i++) {
    yaml += `  svc${i}:\n    image: debian:bookworm-slim\n    init: true\n    command: sleep infinity\n`;
    yaml += `    environment:\n      SERVICE_NAME: svc${i}\n      LOG_LEVEL: info\n      PORT: "8080"\n`;
    if (i > 1) yaml += `      UPSTREAM_URL: http://svc${i - 1}:8080\n`;
    if (i % 10 === 0) yaml += `    ports:\n      - "${ports.shift()}:8080"\n`;
    if (i % 8 === 0) yaml += '    healthcheck:\n      test: ["CMD", "true"]\n      interval: 60s\n      timeout: 5s\n      retries: 3\n';
    // Five "hub" services (svc1..svc5) that a quarter of the others depend on.
    if (i > 5 && i % 4 === 0) yaml += `    depends_on:\n      - svc${1 + (i % 5)}\n`;
    if (i % 6 === 0) yaml += `    labels:\n      team: team${i % 3}\n      tier: backend\n`;
    if (i % 12 === 0) yaml += '    restart: unless-stopped\n';
  }
  return yaml;
}

/** ms per added service from each size to the next, by interval (`1→50`). */
function marginal(at) {
  return Object.fromEntries(SIZES.slice(1).map((size, i) => [`${SIZES[i]}→${size}`, Math.round(((at(size) - at(SIZES[i])) / (size - SIZES[i])) * 100) / 100]));
}

main(async () => {
  const id = runId();
  const dir = workDirectory('scale');
  const label = `dev.flotilla.bench=${id}`;
  const projectOf = (size) => `sf${id}n${size}`;
  const labels = [label, ...SIZES.map((size) => `dev.flotilla.project=${projectOf(size)}`)];
  const clean = cleanupOnExit(labels, [dir]);
  const cli = await snapshotCli(dir);
  const host = machine();
  const env = { ...process.env, FLOTILLA_EXTRA_LABELS: label, XDG_CACHE_HOME: join(dir, 'cache') };

  const ports = await freePorts(SIZES.reduce((sum, size) => sum + Math.floor(size / 10), 0), 41000);
  const files = {};
  for (const size of SIZES) {
    files[size] = join(dir, `compose-${size}.yaml`);
    writeFileSync(files[size], stack(size, ports));
  }
  const flotilla = (size, args, options = {}) => run(process.execPath, [cli.bin, '-f', files[size], '-p', projectOf(size), ...args], { cwd: dir, env, ...options });
  const compose = (size, args) => run('docker-compose', ['-f', files[size], '-p', `sc${id}n${size}`, ...args], { cwd: dir });

  console.log(`scale: config and up --dry-run on running stacks of ${SIZES.join(', ')} services, flotilla ${cli.version}`);
  const upMs = {};
  const running = {};
  for (const size of SIZES) {
    upMs[size] = Math.round((await flotilla(size, ['up'], { timeoutMs: UP_TIMEOUT_MS })).ms);
    running[size] = runningContainers(`dev.flotilla.project=${projectOf(size)}`);
    if (Object.keys(running[size]).length !== size) throw new Error(`${size}: ${Object.keys(running[size]).length} of ${size} running after up`);
    console.log(`  up of ${size} services from nothing: ${upMs[size]} ms`);
  }

  // Wall time is the figure; CPU time (user + system) is kept beside it because the second core
  // (V8's background compiler and GC) and other people's load on it bend wall time, not CPU time.
  const cpu = {};
  const timed = (name, command) => async () => {
    const { ms, cpuMs } = await command();
    if (cpuMs !== undefined) (cpu[name] ??= []).push(cpuMs);
    return ms;
  };
  const variants = {};
  for (const size of SIZES) {
    variants[`config ${size}`] = timed(`config ${size}`, () => flotilla(size, ['config'], { cpu: true }));
    variants[`up --dry-run ${size}`] = timed(`up --dry-run ${size}`, () => flotilla(size, ['up', '--dry-run'], { cpu: true }));
    variants[`compose config ${size}`] = async () => (await compose(size, ['config'])).ms;
  }
  // One untimed round fills the code cache and the page cache.
  await alternate(variants, { runs: 1, budgetMs: BUDGET_MS });
  for (const name of Object.keys(cpu)) delete cpu[name];
  const samples = await alternate(variants, { runs: RUNS, budgetMs: BUDGET_MS });
  for (const size of SIZES) {
    const now = runningContainers(`dev.flotilla.project=${projectOf(size)}`);
    if (JSON.stringify(now) !== JSON.stringify(running[size])) throw new Error(`${size}: containers changed during the dry runs`);
  }
  // A failed `down` is a finding, not a failure to run: recorded, and the cleanup removes the rest.
  const downMs = {};
  const downFailures = {};
  for (const size of SIZES) {
    const down = await flotilla(size, ['down'], { timeoutMs: UP_TIMEOUT_MS, check: false });
    downMs[size] = Math.round(down.ms);
    if (down.code !== 0) downFailures[size] = down.stderr.trim().split('\n').slice(-3).join('\n');
  }
  const leftAfterDown = leftovers(labels);

  const times = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, summary(values)]));
  const verdicts = [];
  const analysis = {};
  for (const command of ['config', 'up --dry-run']) {
    const at = (size) => times[`${command} ${size}`].median;
    const start = at(1);
    analysis[command] = {
      fit: fitLine(SIZES.map((size) => [size, at(size)])),
      startupMs: start,
      msPerServiceAt200: Math.round(((at(200) - start) / 199) * 100) / 100,
      growth200over100: ratio(at(200) - start, at(100) - start),
      growthFrom50: ratio(at(200) - at(50), at(100) - at(50)),
      // ms per added service between neighbouring sizes: flat when linear, rising when worse.
      marginalMsPerService: marginal(at),
    };
    if (canMeasureCpu) {
      const cpuAt = (size) => Math.round(median(cpu[`${command} ${size}`]));
      analysis[command].cpu = {
        medianMs: Object.fromEntries(SIZES.map((size) => [size, cpuAt(size)])),
        fit: fitLine(SIZES.map((size) => [size, cpuAt(size)])),
        growth200over100: ratio(cpuAt(200) - cpuAt(1), cpuAt(100) - cpuAt(1)),
        marginalMsPerService: marginal(cpuAt),
      };
    }
    verdicts.push(verdict(`${command}, 200 services, median`, at(200), TARGET_MS, ' ms'));
    verdicts.push(verdict(`${command}, (t200 − t1)/(t100 − t1), linear is 2.0`, analysis[command].growth200over100, LINEAR_CEILING, ''));
  }
  const configVsCompose = Object.fromEntries(SIZES.map((size) => [size, ratio(times[`config ${size}`].median, times[`compose config ${size}`].median)]));

  console.log('timed round-robin across sizes:');
  printSummaries(times);
  for (const [command, a] of Object.entries(analysis)) {
    console.log(
      `  ${command}: slope ${a.fit.slope} ms/service, intercept ${a.fit.intercept} ms, R² ${a.fit.r2}; start-up (1 service) ${a.startupMs} ms; ` +
        `${a.msPerServiceAt200} ms/service above it at 200; (t200−t1)/(t100−t1) ${a.growth200over100}; (t200−t50)/(t100−t50) ${a.growthFrom50} (linear is 3.0)`,
    );
    console.log(`    marginal ms/service: ${Object.entries(a.marginalMsPerService).map(([span, ms]) => `${span} ${ms}`).join(', ')}`);
    if (a.cpu) {
      console.log(
        `    CPU time (user+sys) medians ${SIZES.map((size) => `${size}: ${a.cpu.medianMs[size]} ms`).join(', ')}; ` +
          `slope ${a.cpu.fit.slope} ms/service, R² ${a.cpu.fit.r2}; (c200−c1)/(c100−c1) ${a.cpu.growth200over100}; ` +
          `marginal ${Object.entries(a.cpu.marginalMsPerService).map(([span, ms]) => `${span} ${ms}`).join(', ')}`,
      );
    }
  }
  console.log(`  config flotilla/compose median: ${SIZES.map((size) => `${size}: ${configVsCompose[size]}x`).join(', ')}`);
  console.log(`  down of each stack (reference): ${SIZES.map((size) => `${size}: ${downMs[size]} ms`).join(', ')}`);
  for (const [size, error] of Object.entries(downFailures)) console.log(`DOWN FAILED for ${size} services:\n${error}`);
  reportLeftovers(leftAfterDown, 'flotilla down');
  for (const v of verdicts) console.log(v.text);

  writeResult('scale', {
    bench: 'scale',
    measures: 'wall time of whole `config` and `up --dry-run` processes against running stacks of 1, 50, 100 and 200 services; linear fit of the medians',
    comparator: `docker-compose ${host.dockerCompose} config on the same files (no dry run in 1.29); targets are absolute`,
    command: 'node bench/scale.mjs',
    machine: host,
    cli: { version: cli.version, bundleSha256: cli.sha256 },
    params: { sizes: SIZES, runs: RUNS, budgetMs: BUDGET_MS, linearCeiling: LINEAR_CEILING },
    upFromNothingMs: upMs,
    downMs,
    downFailures,
    times,
    analysis,
    configVsCompose,
    verdicts,
    leftAfterDown,
  });
  clean();
});
