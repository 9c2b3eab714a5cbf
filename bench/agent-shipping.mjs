// Benchmark: the log-shipping agent under load. 20 containers (node:20-bookworm-slim, json-file
// logging) each write 2,000 pino-like JSON lines/s to stdout for 40 s; `flotilla agent`, in a
// process of its own, follows them through the Engine and ships them to `flotilla serve
// --no-agent` (another process) on loopback. Measured:
//   - the agent's CPU (% of one core, /proc/<pid>/stat) over the steady window and its peak RSS;
//     the collector's, dockerd's, containerd's and the writers' CPU beside it, and the machine's.
//   - lag: lines the containers wrote (each writer counts its own lines in a file on a bind mount)
//     minus lines the collector committed (`ingest.accepted.logs` of GET /api/stats), in seconds
//     of production (÷ 40,000 lines/s), every second of the run: median and p95; then the drain
//     time from the last line written to the last line committed. A line the agent dropped (its
//     queue full) counts as behind: it never arrives.
//   - every line counted: written, read, queued, dropped (by reason), shipped, stored, distinct;
//     written must equal stored once plus dropped and counted.
// No target: the issue asks for the figures. FLOTILLA_BENCH_SECONDS, _CONTAINERS, _RATE for a
// smoke run; FLOTILLA_BENCH_PROFILE=1 runs the agent under `node --cpu-prof` and prints where its
// CPU went, by source file (mapped through the bundle's source map); a profiled run writes no results file.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, SourceMap } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { cleanupOnExit, freePorts, machine, main, median, repo, run, runId, snapshotCli, workDirectory, writeResult } from './lib.mjs';

const CONTAINERS = Number(process.env.FLOTILLA_BENCH_CONTAINERS ?? 20);
const RATE = Number(process.env.FLOTILLA_BENCH_RATE ?? 2_000);
const SECONDS = Number(process.env.FLOTILLA_BENCH_SECONDS ?? 40);
const DRAIN_LIMIT_S = Number(process.env.FLOTILLA_BENCH_DRAIN_S ?? 180);
const PROFILE = Boolean(process.env.FLOTILLA_BENCH_PROFILE);
const IMAGE = 'node:20-bookworm-slim';
const TOTAL_RATE = CONTAINERS * RATE;
/** The steady window leaves out the first seconds (followers start, V8 warms up) and ends with production. */
const WARMUP_S = Math.min(5, Math.floor(SECONDS / 4));
const round = (value, places = 1) => Math.round(value * 10 ** places) / 10 ** places;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

// The writer, run by `node -e` in each container: waits for /out/go (the common start time), then
// writes its due lines every 10 ms in one write, and its count to /out/<name> every 100 ms (and
// with " done <time>" once all are written). stdout is a pipe: Node writes to it synchronously, so a
// slow reader on the Engine's side slows the writer, and its count says so.
const WRITER = `
const fs = require('fs');
const rate = +process.env.RATE, total = rate * +process.env.SECONDS, name = process.env.SVC, out = '/out/' + name;
const messages = ['request completed', 'order created', 'stock reserved for order', 'payment authorised', 'cache miss, loading from the database', 'session refreshed'];
const routes = ['/orders', '/orders/:id', '/stock', '/payments', '/health'];
let seq = 0;
const report = (final) => { fs.writeFileSync(out + '.tmp', seq + (final ? ' done ' + Date.now() : '')); fs.renameSync(out + '.tmp', out); };
const go = () => { let at = 0; try { at = +fs.readFileSync('/out/go', 'utf8'); } catch {} if (at > 0) setTimeout(() => run(at), Math.max(0, at - Date.now())); else setTimeout(go, 20); };
const run = (start) => {
  let reported = 0;
  const tick = () => {
    const now = Date.now();
    const due = Math.min(total, Math.floor(((now - start) * rate) / 1000));
    if (due > seq) {
      let text = '';
      while (seq < due) {
        seq++;
        text += '{"level":30,"time":' + now + ',"pid":1,"hostname":"' + name + '","req":{"method":"GET","route":"' + routes[seq % 5] + '"},"responseTime":' + (seq % 97) + ',"msg":"' + messages[seq % 6] + '","seq":' + seq + '}\\n';
      }
      process.stdout.write(text);
    }
    if (seq >= total) return report(true);
    if (now - reported >= 100) { report(false); reported = now; }
    setTimeout(tick, 10);
  };
  tick();
};
report(false);
go();
`;

/** CPU seconds (user + system, all threads) and RSS of a process from /proc; undefined once it is gone. */
function usage(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { cpu: (Number(stat[11]) + Number(stat[12])) / 100, rssMb: round(kb('VmRSS') / 1024), peakRssMb: round(kb('VmHWM') / 1024) };
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineCpu() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / 100, total: (busy + idle + iowait) / 100 };
}

/** Pids whose command name matches `test`. */
function pidsNamed(test) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (test(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) pids.push(Number(entry));
    } catch {
      // Ended meanwhile.
    }
  }
  return pids;
}

/** CPU seconds of groups of processes; a process that ended keeps the last value read. */
function cpuMeter(groups) {
  const last = new Map();
  return () => {
    const out = {};
    for (const [name, pids] of Object.entries(groups)) {
      let sum = 0;
      for (const pid of pids) {
        const now = usage(pid)?.cpu;
        if (now !== undefined) last.set(pid, now);
        sum += last.get(pid) ?? 0;
      }
      out[name] = sum;
    }
    const self = process.cpuUsage();
    out.bench = (self.user + self.system) / 1e6;
    out.machine = machineCpu();
    return out;
  };
}

/** Starts a CLI process and resolves once a JSON line of stdout has `event` === `ready`; every JSON line goes to `onLine`. */
function startCli(args, { env, ready, onLine, nodeArgs = [] }) {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const started = new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      for (let at = buffered.indexOf('\n'); at !== -1; at = buffered.indexOf('\n')) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        let event;
        try {
          event = JSON.parse(line);
        } catch {
          continue;
        }
        onLine?.(event);
        if (event.event === ready) resolve();
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`${args[1]} exited (${code ?? signal}) before it was ready:\n${stderr}`)));
    setTimeout(() => reject(new Error(`${args[1]} not ready after 30 s:\n${stderr}`)), 30_000).unref();
  });
  return { child, started, exited, stderr: () => stderr };
}

/** Stops a process we started (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
async function stop(process_, graceMs) {
  if (process_.child.exitCode !== null || process_.child.signalCode !== null) return process_.exited;
  process_.child.kill('SIGTERM');
  const timer = setTimeout(() => process_.child.kill('SIGKILL'), graceMs);
  const result = await process_.exited;
  clearTimeout(timer);
  return result;
}

/** Runs `work` over `items`, `limit` at a time. */
async function inParallel(items, limit, work) {
  const queue = [...items];
  await Promise.all(Array.from({ length: limit }, async () => {
    while (queue.length > 0) await work(queue.shift());
  }));
}

/** Self time of a .cpuprofile by source file and by function, mapped through the bundle's source map. */
function profileSummary(file, map) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const self = new Map(profile.nodes.map((node) => [node.id, 0]));
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (deltas[i] ?? 0));
  const byFile = new Map();
  const byFunction = new Map();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    let where = url ? url.replace(/^.*\//, '') : functionName;
    if (map && url.endsWith('flotilla-main.cjs') && lineNumber >= 0) {
      const entry = map.findEntry(lineNumber, columnNumber);
      if (entry?.originalSource) where = entry.originalSource.replace(/^.*?(src\/|node_modules\/)/, '$1');
    }
    if (!url) where = functionName; // (garbage collector), (program)
    byFile.set(where, (byFile.get(where) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const top = (entries, n) => [...entries].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name, ms: Math.round(us / 1000), percent: round((us / total) * 100) }));
  return { busyMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), byFile: top(byFile, 20), byFunction: top(byFunction, 25) };
}

main(async () => {
  const id = runId();
  const dir = workDirectory('agent-shipping');
  const label = `dev.flotilla.bench=${id}`;
  const project = `ship${id}`;
  const clean = cleanupOnExit([label, `dev.flotilla.project=${project}`], [dir]);
  const cli = await snapshotCli(dir);
  const host = machine();
  const counts = join(dir, 'counts');
  const profiles = join(dir, 'profiles');
  mkdirSync(counts, { mode: 0o777 });
  let sourceMap;
  if (PROFILE) {
    mkdirSync(profiles);
    // The map of the bundle the bench runs, if dist/bin still holds that bundle.
    const distMain = join(repo, 'dist', 'bin', 'flotilla-main.cjs');
    if (existsSync(`${distMain}.map`) && readFileSync(distMain).equals(readFileSync(join(dir, 'cli', 'flotilla-main.cjs')))) {
      copyFileSync(`${distMain}.map`, join(dir, 'cli', 'flotilla-main.cjs.map'));
      sourceMap = new SourceMap(JSON.parse(readFileSync(join(dir, 'cli', 'flotilla-main.cjs.map'), 'utf8')));
    }
  }
  const env = { ...process.env, FLOTILLA_STATE_DIR: dir, XDG_CACHE_HOME: join(dir, 'cache') };
  console.log(`agent-shipping: ${CONTAINERS} containers × ${RATE.toLocaleString('en')} lines/s for ${SECONDS} s (${TOTAL_RATE.toLocaleString('en')} lines/s), flotilla ${cli.version} agent → serve, ${cpus().length} cores, load ${host.loadAverage1m}`);

  // The collector.
  const [port] = await freePorts(1, 24400);
  const collector = startCli([cli.bin, 'serve', '--no-agent', '--host', '127.0.0.1', '--port', String(port), '--data-dir', join(dir, 'data'), '--output', 'json'], { env, ready: 'listening' });
  // Only what this bench started, by pid, however it ends (lib's Ctrl-C handler exits the process).
  const started = [collector];
  process.on('exit', () => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await collector.started;
  const serve = JSON.parse(readFileSync(join(dir, 'serve.json'), 'utf8'));
  const stats = async () => {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), 10_000);
    try {
      const response = await fetch(`${serve.url}/api/stats`, { headers: { authorization: `Bearer ${serve.token}` }, signal: timeout.signal });
      if (!response.ok) throw new Error(`GET /api/stats: HTTP ${response.status}`);
      return await response.json();
    } finally {
      clearTimeout(timer);
    }
  };

  // The agent.
  const agentEvents = { follow: 0, warnings: [], retries: [], progress: [], stopped: undefined };
  const agent = startCli([cli.bin, 'agent', '--endpoint', serve.url, '--project', project, '--state-dir', join(dir, 'agent'), '--output', 'json'], {
    env,
    ready: 'start',
    nodeArgs: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', profiles] : [],
    onLine: (event) => {
      if (event.event === 'follow') agentEvents.follow += 1;
      else if (event.event === 'warning') agentEvents.warnings.push(event.message);
      else if (event.event === 'retry') agentEvents.retries.push(event.reason);
      else if (event.event === 'progress') agentEvents.progress.push({ at: Date.now(), ...event.stats });
      else if (event.event === 'stopped') agentEvents.stopped = event.stats;
    },
  });
  started.push(agent);
  await agent.started;

  // The writers: started, then given one common start time once every one of them is ready.
  const names = Array.from({ length: CONTAINERS }, (_, i) => `svc-${i + 1}`);
  const startedAt = Date.now();
  await inParallel(names, 4, (name) =>
    run('docker', [
      'run', '-d', '--name', `${project}-${name}`, '--network', 'none', '--log-driver', 'json-file',
      '--label', label, '--label', `dev.flotilla.project=${project}`, '--label', `dev.flotilla.service=${name}`,
      '-e', `RATE=${RATE}`, '-e', `SECONDS=${SECONDS}`, '-e', `SVC=${name}`, '-v', `${counts}:/out`,
      IMAGE, 'node', '-e', WRITER,
    ]),
  );
  const readCounts = () => names.map((name) => {
    try {
      const [count, done, at] = readFileSync(join(counts, name), 'utf8').split(' ');
      return { count: Number(count), done: done === 'done', at: Number(at) };
    } catch {
      return undefined;
    }
  });
  for (const deadline = Date.now() + 60_000; readCounts().some((c) => c === undefined); await sleep(100)) {
    if (Date.now() > deadline) throw new Error('the writers were not ready within 60 s');
  }
  for (const deadline = Date.now() + 30_000; agentEvents.follow < CONTAINERS; await sleep(100)) {
    if (Date.now() > deadline) throw new Error(`the agent follows ${agentEvents.follow} of ${CONTAINERS} containers after 30 s`);
  }
  const setupS = round((Date.now() - startedAt) / 1000);
  const pidOf = async (name) => Number((await run('docker', ['inspect', '-f', '{{.State.Pid}}', `${project}-${name}`])).stdout.trim());
  const writerPids = await Promise.all(names.map(pidOf));
  const dockerd = existsSync('/var/run/docker.pid') ? [Number(readFileSync('/var/run/docker.pid', 'utf8').trim())] : pidsNamed((comm) => comm === 'dockerd');
  const meter = cpuMeter({
    agent: [agent.child.pid],
    collector: [collector.child.pid],
    dockerd,
    containerd: pidsNamed((comm) => comm === 'containerd' || comm.startsWith('containerd-shim')),
    writers: writerPids,
  });
  const statsBefore = await stats();
  const storedBefore = statsBefore.ingest.accepted.logs;

  const goAt = Date.now() + 500;
  writeFileSync(join(counts, 'go'), String(goAt));
  console.log(`set-up ${setupS} s (collector, agent, ${CONTAINERS} containers ready); writing from ${new Date(goAt).toISOString()}`);
  await sleep(goAt - Date.now());

  // Every second: written (the writers' counts) against committed (the collector's counter);
  // every 250 ms once the writers are done, for the drain time.
  const samples = [];
  const statsMs = [];
  let productionEnd;
  let drained;
  let lastIncrease = { t: 0, stored: 0 };
  const meterAt = { start: meter(), steadyStart: undefined, steadyEnd: undefined, end: undefined };
  const hardDeadline = goAt + (SECONDS + DRAIN_LIMIT_S) * 1000 + 60_000;
  for (let tick = 1; Date.now() < hardDeadline; tick++) {
    await sleep(productionEnd || tick > SECONDS ? 250 : Math.max(0, goAt + tick * 1000 - Date.now()));
    const now = Date.now();
    const t = (now - goAt) / 1000;
    if (!meterAt.steadyStart && t >= WARMUP_S) meterAt.steadyStart = { t, ...meter() };
    if (!meterAt.steadyEnd && t >= SECONDS) meterAt.steadyEnd = { t, ...meter() };
    const writers = readCounts();
    const written = writers.reduce((sum, c) => sum + (c?.count ?? 0), 0);
    const asked = performance.now();
    const current = await stats();
    statsMs.push(performance.now() - asked);
    const stored = current.ingest.accepted.logs - storedBefore;
    const agentUsage = usage(agent.child.pid);
    samples.push({ t: round(t, 2), written, stored, lagLines: written - stored, lagS: round((written - stored) / TOTAL_RATE, 2), agentRssMb: agentUsage?.rssMb });
    if (!productionEnd && writers.every((c) => c?.done)) {
      // When the last line was written, as the writers say: the drain is timed from there.
      productionEnd = { t: (Math.max(...writers.map((c) => c.at)) - goAt) / 1000, written };
      console.log(`  ${round(t)} s: all ${written.toLocaleString('en')} lines written; collector has ${stored.toLocaleString('en')}`);
    }
    if (stored > (samples.at(-2)?.stored ?? -1)) lastIncrease = { t, stored };
    // Drained: all written is committed; or, when the agent dropped lines, all it queued is (its
    // last progress line says it read everything and holds nothing, and nothing came for 12 s).
    const said = agentEvents.progress.at(-1);
    const queuedAllShipped = said?.received === productionEnd?.written && said?.inQueue === 0 && t - lastIncrease.t > 12;
    if (productionEnd && (stored >= productionEnd.written || queuedAllShipped)) {
      drained = lastIncrease;
      break;
    }
    if (!productionEnd && tick % 5 === 0) console.log(`  ${round(t)} s: written ${written.toLocaleString('en')}, committed ${stored.toLocaleString('en')}, behind ${round((written - stored) / TOTAL_RATE, 2)} s`);
    if (productionEnd && t - productionEnd.t > DRAIN_LIMIT_S) break;
  }
  meterAt.end = { t: (Date.now() - goAt) / 1000, ...meter() };
  const peak = usage(agent.child.pid);
  const collectorPeak = usage(collector.child.pid);
  if (!productionEnd) console.log('  the writers did not finish within the time limit');
  else if (!drained) console.log(`  not drained ${DRAIN_LIMIT_S} s after the last line was written`);

  // Stop the agent (it reports its final counts), then the collector; then count what it stored.
  const agentExit = await stop(agent, 30_000);
  const final = await stats();
  const collectorExit = await stop(collector, 30_000);
  const Database = createRequire(join(repo, 'package.json'))('better-sqlite3');
  const db = new Database(join(dir, 'data', 'telemetry.db'), { readonly: true });
  const stored = db.prepare(
    "SELECT count(*) AS rows, count(DISTINCT service || ':' || json_extract(attributes, '$.seq')) AS lines, count(DISTINCT service) AS services FROM logs",
  ).get();
  db.close();
  const writers = readCounts();
  const written = writers.reduce((sum, c) => sum + (c?.count ?? 0), 0);
  const a = agentEvents.stopped ?? agentEvents.progress.at(-1);

  // CPU over the steady window (% of one core), over the whole run, and per line.
  const cpuOver = (from, to) => {
    const seconds = to.t - from.t;
    const percent = (name) => round(((to[name] - from[name]) / seconds) * 100);
    const groups = ['agent', 'collector', 'dockerd', 'containerd', 'writers', 'bench'];
    const out = Object.fromEntries(groups.map((name) => [name, percent(name)]));
    out.machineBusy = round(((to.machine.busy - from.machine.busy) / seconds) * 100);
    out.machineCapacity = round(((to.machine.total - from.machine.total) / seconds) * 100);
    out.otherProcesses = round(out.machineBusy - groups.reduce((sum, name) => sum + out[name], 0));
    return { seconds: round(seconds), ...out };
  };
  const steadyEnd = meterAt.steadyEnd ?? meterAt.end;
  const steady = cpuOver(meterAt.steadyStart ?? { t: 0, ...meterAt.start }, steadyEnd);
  const drainCpu = cpuOver(steadyEnd, meterAt.end);
  const whole = cpuOver({ t: 0, ...meterAt.start }, meterAt.end);
  const agentCpuSeconds = meterAt.end.agent - meterAt.start.agent;
  // The once-a-second samples of the writing time (later ones come every 250 ms, for the drain).
  const during = samples.filter((s) => s.t <= Math.min(productionEnd?.t ?? SECONDS, SECONDS) + 0.5);
  const lags = during.map((s) => s.lagS);
  const lag = { median: round(median(lags), 2), p95: round(percentile(lags, 95), 2), max: round(Math.max(...lags), 2), atEndOfWriting: during.at(-1)?.lagS, samples: during.length };
  const drainS = productionEnd && drained ? round(drained.t - productionEnd.t, 2) : undefined;
  const rate = (lines, seconds) => Math.round(lines / seconds);

  const ledger = {
    written,
    writtenOnSchedule: CONTAINERS * RATE * SECONDS,
    agentReceived: a?.received,
    agentQueued: a?.queued,
    agentShipped: a?.shipped,
    agentDropped: a?.dropped,
    agentInQueueAtStop: a?.inQueue,
    collectorAccepted: final.ingest.accepted.logs - storedBefore,
    collectorRows: stored.rows,
    distinctLinesStored: stored.lines,
    servicesStored: stored.services,
  };
  const dropped = a ? a.dropped.queue_full + a.dropped.disk_full + a.dropped.rejected : undefined;
  const checks = {
    unread: a && written - a.received,
    receivedMinusQueuedAndDropped: a && a.received - a.queued - a.dropped.queue_full - a.dropped.disk_full,
    queuedMinusShippedRejectedAndQueue: a && a.queued - a.shipped - a.dropped.rejected - a.inQueue,
    shippedMinusStoredRows: a && a.shipped - stored.rows,
    duplicatesStored: stored.rows - stored.lines,
    // Lines neither stored nor counted as dropped: lost silently.
    unaccounted: written - stored.lines - (dropped ?? 0),
  };

  console.log(`\nwritten ${written.toLocaleString('en')} lines (${rate(written, productionEnd?.t ?? SECONDS).toLocaleString('en')}/s; ${(CONTAINERS * RATE * SECONDS).toLocaleString('en')} on schedule), writing took ${round(productionEnd?.t ?? Number.NaN)} s of ${SECONDS}`);
  console.log(`agent: CPU ${steady.agent}% of one core over the steady window (${WARMUP_S}–${round(steadyEnd.t)} s), ${drainCpu.agent}% while draining; ${round((agentCpuSeconds / Math.max(1, a?.received ?? 1)) * 1e6, 2)} µs CPU a line over the run; RSS peak ${peak?.peakRssMb} MB`);
  console.log(`lag (written − committed, in seconds of production at ${TOTAL_RATE.toLocaleString('en')} lines/s): median ${lag.median} s, p95 ${lag.p95} s, max ${lag.max} s, at the end of writing ${lag.atEndOfWriting} s`);
  console.log(`drain: ${drainS === undefined ? `NOT DRAINED within ${DRAIN_LIMIT_S} s` : `${drainS} s`} from the last line written to the last line committed (${drained?.stored.toLocaleString('en')} committed)`);
  console.log(`CPU over the steady window, % of one core (the machine has ${steady.machineCapacity}): agent ${steady.agent}, collector ${steady.collector}, dockerd ${steady.dockerd}, containerd+shims ${steady.containerd}, writers ${steady.writers}, bench ${steady.bench}, other processes ${steady.otherProcesses}; machine busy ${steady.machineBusy}`);
  console.log(`CPU while draining: agent ${drainCpu.agent}, collector ${drainCpu.collector}, dockerd ${drainCpu.dockerd}; machine busy ${drainCpu.machineBusy} of ${drainCpu.machineCapacity}`);
  console.log(`collector: RSS peak ${collectorPeak?.peakRssMb} MB; GET /api/stats median ${round(median(statsMs))} ms`);
  console.log(`counts: written ${written}, agent received ${a?.received}, queued ${a?.queued}, shipped ${a?.shipped}, dropped ${dropped} ${JSON.stringify(a?.dropped)}, in queue at stop ${a?.inQueue}; collector rows ${stored.rows}, distinct lines ${stored.lines} of ${stored.services} services`);
  const off = Object.entries(checks).filter(([, value]) => value !== 0);
  console.log(off.length === 0 ? `counts add up: written = stored once + dropped and counted (${written} = ${stored.lines} + ${dropped}); no duplicates, nothing unaccounted` : `COUNTS DO NOT ADD UP: ${JSON.stringify(Object.fromEntries(off))}`);
  if (agentEvents.warnings.length) console.log(`agent warnings: ${[...new Set(agentEvents.warnings)].slice(0, 5).join(' | ')}`);
  if (agentEvents.retries.length) console.log(`agent retries: ${agentEvents.retries.length} (${[...new Set(agentEvents.retries)].slice(0, 5).join(', ')})`);

  let profile;
  if (PROFILE) {
    const file = readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'));
    if (file) {
      profile = profileSummary(join(profiles, file), sourceMap);
      console.log(`\nagent profile: ${profile.busyMs} ms busy, ${profile.idleMs} ms idle${sourceMap ? '' : ' (no source map: bundle positions)'}; self time by file:`);
      for (const entry of profile.byFile.slice(0, 15)) console.log(`  ${String(entry.percent).padStart(5)}%  ${entry.name}`);
      console.log('by function:');
      for (const entry of profile.byFunction.slice(0, 20)) console.log(`  ${String(entry.percent).padStart(5)}%  ${entry.name}`);
    }
  }

  // A profiled agent runs slower: its figures are printed, not kept as the bench's results.
  if (PROFILE) return clean();
  writeResult('agent-shipping', {
    machine: host,
    measures: '`flotilla agent` (own process) following containers that write JSON lines to stdout (json-file logging), shipping to `flotilla serve --no-agent` on loopback',
    params: { containers: CONTAINERS, linesPerSecondEach: RATE, seconds: SECONDS, totalLinesPerSecond: TOTAL_RATE, warmupS: WARMUP_S, image: IMAGE, version: cli.version, bundleSha256: cli.sha256 },
    setupS,
    writing: { seconds: productionEnd ? round(productionEnd.t, 2) : null, linesPerSecond: rate(written, productionEnd?.t ?? SECONDS) },
    agent: { cpuPercentSteady: steady.agent, cpuPercentDraining: drainCpu.agent, cpuSeconds: round(agentCpuSeconds, 2), cpuMicrosecondsPerLine: round((agentCpuSeconds / Math.max(1, a?.received ?? 1)) * 1e6, 2), peakRssMb: peak?.peakRssMb, exit: agentExit },
    collector: { peakRssMb: collectorPeak?.peakRssMb, statsRequestMedianMs: round(median(statsMs)), exit: collectorExit },
    lagSeconds: lag,
    drainSeconds: drainS ?? null,
    cpuPercentOfOneCore: { steady, draining: drainCpu, wholeRun: whole },
    ledger,
    checks,
    agentWarnings: [...new Set(agentEvents.warnings)],
    agentRetries: agentEvents.retries.length,
    agentProgress: agentEvents.progress.map((p) => ({ t: round((p.at - goAt) / 1000), received: p.received, shipped: p.shipped, inQueue: p.inQueue })),
    samples,
  });
  clean();
});
