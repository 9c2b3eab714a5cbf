// Shared helpers for the benchmarks: a frozen copy of the built CLI, whole-process timing,
// alternating runs, medians, machine facts, results files and cleanup of what a run created.
// Plain Node.js, no dependencies, so `npm run bench` needs no build step of its own.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
// The frozen CLI copy (snapshotCli) lives outside the repository, but loads native addons such as
// better-sqlite3 from the repository's node_modules: every process a bench starts inherits this.
process.env.NODE_PATH = join(repo, 'node_modules');
const dist = join(repo, 'dist', 'bin');
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** A fresh temporary directory, removed by `cleanup()`. */
export function workDirectory(name) {
  return mkdtempSync(join(tmpdir(), `flotilla-bench-${name}-`));
}

/** A short id for this run, used in project names and the bench label. */
export function runId() {
  return `${Date.now().toString(36)}${process.pid.toString(36)}`;
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Copies dist/bin into `dir` and returns how to run it. Other people rebuild dist/bin while a
 * bench runs (the build deletes it first); a private copy keeps every run on the same bundle,
 * and a private cache directory makes the launcher's V8 code cache cold or warm on purpose.
 */
export async function snapshotCli(dir) {
  const target = join(dir, 'cli');
  mkdirSync(target, { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const before = sha256(join(dist, 'flotilla-main.cjs'));
      copyFileSync(join(dist, 'flotilla.cjs'), join(target, 'flotilla.cjs'));
      copyFileSync(join(dist, 'flotilla-main.cjs'), join(target, 'flotilla-main.cjs'));
      copyFileSync(join(dist, 'flotilla-store-writer.cjs'), join(target, 'flotilla-store-writer.cjs'));
      const sha = sha256(join(target, 'flotilla-main.cjs'));
      if (sha === before) {
        const bin = join(target, 'flotilla.cjs');
        const check = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', env: { ...process.env, FLOTILLA_NO_CODE_CACHE: '1' } });
        if (check.status === 0) return { bin, version: check.stdout.trim(), sha256: sha };
      }
    } catch {
      // dist/bin is being rebuilt: try again shortly.
    }
    if (Date.now() > deadline) throw new Error(`no usable CLI in ${dist}: run \`npm run build\` first`);
    await sleep(1000);
  }
}

const TIME = '/usr/bin/time';
/** True when GNU time is there to measure a child's CPU time (`run(..., { cpu: true })`). */
export const canMeasureCpu = existsSync(TIME);
let cpuFiles = 0;

/**
 * Runs a whole process and measures its wall time from spawn to exit, in milliseconds; with
 * `cpu`, also its user + system CPU time (`cpuMs`, 10 ms resolution) through GNU time.
 * Rejects when it exits non-zero (unless `check` is false) or outlives `timeoutMs`.
 */
export function run(command, args, { cwd, env, timeoutMs = 120_000, check = true, cpu = false } = {}) {
  const cpuFile = cpu && canMeasureCpu ? join(tmpdir(), `flotilla-bench-cpu-${process.pid}-${cpuFiles++}`) : undefined;
  if (cpuFile) [command, args] = [TIME, ['-f', '%U %S', '-o', cpuFile, command, ...args]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // Its own process group, so a timeout or Ctrl-C ends it and anything it started (GNU time's child).
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(child);
    let stdout = '';
    let stderr = '';
    let ms = 0;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', () => (ms = performance.now() - started));
    const timer = setTimeout(() => killGroup(child), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      const result = { ms, code, stdout, stderr, cpuMs: cpuFile ? cpuTime(cpuFile) : undefined };
      const shown = `${command} ${args.join(' ')}`;
      if (signal) reject(new Error(`${shown}: killed by ${signal} after ${Math.round(ms)} ms`));
      else if (check && code !== 0) reject(new Error(`${shown}: exit ${code}\n${stderr.slice(-2000)}`));
      else resolve(result);
    });
  });
}

/** User + system ms from a GNU time output file, which it then removes. */
function cpuTime(file) {
  try {
    const [user, system] = readFileSync(file, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    return (user + system) * 1000;
  } catch {
    return undefined;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Processes started by `run` and not yet ended. */
const live = new Set();
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const round = (value, places = 1) => Math.round(value * 10 ** places) / 10 ** places;

/** Median, min and max of timings in ms, with the samples in the order taken. */
export function summary(samples) {
  return { n: samples.length, median: round(median(samples)), min: round(Math.min(...samples)), max: round(Math.max(...samples)), samples: samples.map((s) => round(s)) };
}

/**
 * Runs each variant `runs` times, alternating (A B, B A, A B, ...) so drift on a shared machine
 * falls on both alike; stops early when `budgetMs` is spent. `before(name)` runs untimed first.
 * Each variant is an async function returning the ms it measured. Returns samples by name.
 */
export async function alternate(variants, { runs, budgetMs, before }) {
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const started = Date.now();
  for (let round = 0; round < runs && Date.now() - started < budgetMs; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      if (before) await before(name);
      samples[name].push(await variants[name]());
    }
  }
  return samples;
}

/** `value` against a ceiling: the verdict text, OK or MISSED with by how much. */
export function verdict(what, value, ceiling, unit = 'x') {
  const met = value <= ceiling;
  const by = met ? '' : ` by ${round((value / ceiling - 1) * 100)}%`;
  const text = `${met ? 'OK    ' : 'MISSED'} ${what}: ${value}${unit} (target ≤ ${ceiling}${unit})${by}`;
  return { what, value, ceiling, met, text };
}

/** Prints a line per timing summary. */
export function printSummaries(summaries) {
  const width = Math.max(...Object.keys(summaries).map((name) => name.length));
  for (const [name, s] of Object.entries(summaries)) {
    console.log(`  ${name.padEnd(width)}  median ${String(s.median).padStart(7)} ms  min ${String(s.min).padStart(7)} ms  max ${String(s.max).padStart(7)} ms  n=${s.n}`);
  }
}

/** Ratio of a to b, two places. */
export const ratio = (a, b) => round(a / b, 2);

/** Median of the ratios a[i]/b[i] of runs taken side by side: drift between rounds cancels out. */
export const pairedRatio = (a, b) => round(median(a.slice(0, b.length).map((value, i) => value / b[i])), 2);

/** Least-squares line through points [x, y]: slope, intercept, R². */
export function fitLine(points) {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const residual = points.reduce((sum, [x, y]) => sum + (y - (intercept + slope * x)) ** 2, 0);
  const total = points.reduce((sum, [, y]) => sum + (y - my) ** 2, 0);
  return { slope: round(slope, 3), intercept: round(intercept), r2: round(1 - residual / total, 4) };
}

const firstLine = (command, args) => spawnSync(command, args, { encoding: 'utf8' }).stdout?.split('\n')[0].trim() || 'unknown';

/** The machine and software the figures come from. */
export function machine() {
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim(),
    memoryGiB: round(totalmem() / 2 ** 30),
    kernel: release(),
    // Other work on a shared machine shows here; figures taken under a high load are noisier.
    loadAverage1m: round(loadavg()[0], 2),
    node: process.version,
    docker: firstLine('docker', ['version', '--format', '{{.Server.Version}}']),
    dockerCompose: firstLine('docker-compose', ['version', '--short']),
    gitHead: firstLine('git', ['-C', repo, 'rev-parse', '--short', 'HEAD']),
    srcChangedSinceHead: spawnSync('git', ['-C', repo, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).stdout.trim() !== '',
  };
}

/** Writes bench/results/<name>.json and says where. */
export function writeResult(name, result) {
  const directory = join(repo, 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${name}.json`);
  const finished = { finishedAt: new Date().toISOString(), loadAverage1mAtEnd: round(loadavg()[0], 2) };
  writeFileSync(file, `${JSON.stringify({ ...result, ...finished }, null, 2)}\n`);
  console.log(`\nfigures written to ${file.slice(repo.length + 1)}`);
}

/** `count` TCP ports free on this host, from `from` up. */
export async function freePorts(count, from) {
  const ports = [];
  for (let port = from; ports.length < count && port < 65535; port++) {
    const free = await new Promise((done) => {
      const server = createServer();
      server.once('error', () => done(false));
      server.listen(port, '0.0.0.0', () => server.close(() => done(true)));
    });
    if (free) ports.push(port);
  }
  return ports;
}

/** A compose file of `count` tiny services: debian:bookworm-slim, `init: true`, `sleep infinity`. */
export function tinyStack(count) {
  let yaml = 'services:\n';
  for (let i = 1; i <= count; i++) yaml += `  s${i}:\n    image: debian:bookworm-slim\n    init: true\n    command: sleep infinity\n`;
  return yaml;
}

const docker = (...args) => spawnSync('docker', args, { encoding: 'utf8' });
const lines = (text) => (text ?? '').split('\n').filter(Boolean);

/** Names of the containers and networks carrying any of `labels` (`key=value`). */
export function leftovers(labels) {
  const containers = new Set();
  const networks = new Set();
  for (const label of labels) {
    for (const name of lines(docker('ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}}').stdout)) containers.add(name);
    for (const name of lines(docker('network', 'ls', '--filter', `label=${label}`, '--format', '{{.Name}}').stdout)) networks.add(name);
  }
  return { containers: [...containers].sort(), networks: [...networks].sort() };
}

/** Running containers carrying `label`, by name → id. */
export function runningContainers(label) {
  const out = docker('ps', '--filter', `label=${label}`, '--format', '{{.Names}} {{.ID}}').stdout;
  return Object.fromEntries(lines(out).map((line) => line.split(' ')));
}

const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Force-removes containers and networks carrying any of `labels`. Synchronous, so it also works
 * on the way out. Containers go a few at a time and network removal is retried: many concurrent
 * removals can leave Docker 20.10 counting endpoints that no longer exist (moby/moby#43286).
 */
export function removeByLabels(labels) {
  for (const label of labels) {
    const ids = lines(docker('ps', '-aq', '--filter', `label=${label}`).stdout);
    for (let i = 0; i < ids.length; i += 8) docker('rm', '-f', '-v', ...ids.slice(i, i + 8));
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const nets = labels.flatMap((label) => lines(docker('network', 'ls', '-q', '--filter', `label=${label}`).stdout));
    if (nets.length === 0) return;
    if (attempt > 0) sleepSync(1000);
    for (const net of new Set(nets)) docker('network', 'rm', net);
  }
}

const isEmpty = (found) => found.containers.length + found.networks.length === 0;

/**
 * Makes sure everything carrying `labels` and the directories in `dirs` are removed when the
 * bench ends, however it ends (error, Ctrl-C). Returns a function that cleans up now; it prints
 * what it had to remove and throws when something could not be removed.
 */
export function cleanupOnExit(labels, dirs) {
  let done = false;
  const clean = () => {
    if (done) return;
    done = true;
    const found = leftovers(labels);
    removeByLabels(labels);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (!isEmpty(found)) console.log(`removed by label: ${JSON.stringify(found)}`);
    const remaining = leftovers(labels);
    if (!isEmpty(remaining)) {
      throw new Error(
        `could not remove ${JSON.stringify(remaining)} (labels ${labels.join(', ')}). A network with no containers that ` +
          'cannot be removed for "active endpoints" is moby/moby#43286: it goes away with a restart of the Docker daemon.',
      );
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`\n${signal}: removing what this bench created`);
      for (const child of live) killGroup(child);
      try {
        clean();
      } finally {
        process.exit(130);
      }
    });
  }
  process.once('exit', () => {
    try {
      clean();
    } catch (error) {
      console.error(error.message);
      process.exitCode = 1;
    }
  });
  return clean;
}

/** Says whether the tools' own `down` left anything behind. */
export function reportLeftovers(found, who) {
  console.log(isEmpty(found) ? `nothing left after ${who}` : `LEFT AFTER ${who.toUpperCase()}: ${JSON.stringify(found)}`);
}

/** Runs a bench's main function: exit 1 only when it failed to run, never for a missed target. */
export function main(body) {
  body().then(
    () => process.exit(0),
    (error) => {
      console.error(`\nbench failed to run: ${error?.stack ?? error}`);
      process.exit(1);
    },
  );
}

/** A small deterministic PRNG, so every run of a bench makes the same data. */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Bundles TypeScript from src/ (`contents`: export statements, relative to the repository) into
 * `<dir>/<name>.bundle.mjs` with esbuild and imports it: benches of in-process code need no build step.
 */
export async function importSource(dir, name, contents, options = {}) {
  const { build } = await import('esbuild');
  const outfile = join(dir, `${name}.bundle.mjs`);
  await build({ stdin: { contents, resolveDir: repo, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'warning', ...options });
  return import(pathToFileURL(outfile).href);
}
