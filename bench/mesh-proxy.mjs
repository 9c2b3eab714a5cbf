// Benchmark: the mesh proxy (`runMeshProxy`, src/mesh/proxy-main.ts, bundled and run with node in a
// process of its own, telemetry on to a real `flotilla serve`) against Debian's HAProxy and nginx,
// on loopback, one upstream (nginx answering `return 200 "ok"`), one load generator (wrk).
//   1. TCP mode: Flotilla with a `tcp` listener vs HAProxy `mode tcp`: requests/s, ratio ≥ 0.75x.
//   2. HTTP mode: Flotilla with an `http` listener vs nginx as a reverse proxy with upstream
//      keep-alive: requests/s, ratio ≥ 0.75x.
//   3. Added p50 latency with one connection (wrk -c1 --latency), through each proxy minus direct:
//      < 100 µs TCP, < 150 µs HTTP.
//   4. Memory: one proxy process for 1, 2 and 5 services (an HTTP listener each, all on one port and
//      told apart by Host, as `up` lays out services on one network), under a light load, run as a
//      proxy container runs it: the bundle the image ships (scripts/lib/mesh-proxy-build.mjs) with
//      the image's node flags (src/deploy/mesh-proxy-process.ts). VmRSS, RssAnon, Pss, VmHWM;
//      the process's RSS divided by its services ≤ 40 MB. For comparison, 5 services in a process
//      each (the layout before the shared proxy).
// MESH_BENCH_PHASES=throughput,latency,memory (any of them; all by default) runs only those phases;
// a partial run writes bench/results/mesh-proxy-<phases>.json, leaving the full run's figures alone.
// Every server runs in the foreground as a child of this process, with its own config in the work
// directory, on ports from freePorts; all are killed by pid and the directory removed at the end.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { join } from 'node:path';
import { buildMeshProxy } from '../scripts/lib/mesh-proxy-build.mjs';
import { cleanupOnExit, freePorts, machine, main, median, repo, run, snapshotCli, workDirectory, writeResult } from './lib.mjs';

const round = (value, places = 1) => Math.round(value * 10 ** places) / 10 ** places;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

const SECONDS = Number(process.env.FLOTILLA_BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.FLOTILLA_BENCH_ROUNDS ?? 4);
const LATENCY_SECONDS = Number(process.env.FLOTILLA_BENCH_LATENCY_SECONDS ?? 5);
const LATENCY_ROUNDS = Number(process.env.FLOTILLA_BENCH_LATENCY_ROUNDS ?? 3);
const CONNECTIONS = 32;
const LIGHT_RATE = 100; // requests/s per service in the memory phase
const LIGHT_SECONDS = 10;
const TARGETS = { tcpRatio: 0.75, httpRatio: 0.75, tcpAddedUs: 100, httpAddedUs: 150, rssMbPerService: 40 };
/** Whole-bench budget: past it the alternating loops stop early (each still runs at least one round). */
const BUDGET_MS = 20 * 60_000;
const ALL_PHASES = ['throughput', 'latency', 'memory'];
const PHASES = (process.env.MESH_BENCH_PHASES ?? ALL_PHASES.join(',')).split(',').map((name) => name.trim()).filter(Boolean);
for (const name of PHASES) if (!ALL_PHASES.includes(name)) throw new Error(`MESH_BENCH_PHASES: unknown phase "${name}" (phases: ${ALL_PHASES.join(', ')})`);
const selected = (name) => PHASES.includes(name);

/** Children started here, killed by pid on the way out, however the bench ends. */
const children = new Set();
function killChildren() {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  children.clear();
}

/** Starts a long-running server in the foreground; resolves once `port` accepts connections (or `ready` is seen on stderr/stdout). */
async function startServer(name, command, args, { port, ready, env, cwd } = {}) {
  const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const collect = (chunk) => {
    output = (output + chunk).slice(-4000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((_, reject) => child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output}`))));
  exited.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  const isReady = async () => {
    if (ready) return ready.test(output);
    return new Promise((done) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
  };
  for (;;) {
    const ok = await Promise.race([isReady(), exited]);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${name} not ready within 15 s:\n${output}`);
    await sleep(50);
  }
  child.output = () => output;
  return child;
}

async function stopServer(child) {
  if (!children.has(child)) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

/** The pids of a process and its direct children (nginx's workers), from /proc. */
function processTree(pid) {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...kids];
  } catch {
    return [pid];
  }
}

/** CPU seconds (user + system) of a process and its direct children. */
function cpuSeconds(pid) {
  let total = 0;
  for (const one of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${one}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(stat[11]) + Number(stat[12])) / 100;
    } catch {
      // Gone.
    }
  }
  return total;
}

/**
 * Memory of one process, in MB: VmRSS, VmHWM (peak RSS), RssAnon (its private memory: heap, stacks)
 * and RssFile (mapped files, mostly the node binary, whose pages processes share), and Pss.
 */
function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (text, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
  let pss = 0;
  try {
    pss = kb(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
  } catch {
    // Older kernels.
  }
  const mb = (value) => round(value / 1024);
  return { rssMb: mb(kb(status, 'VmRSS')), hwmMb: mb(kb(status, 'VmHWM')), anonMb: mb(kb(status, 'RssAnon')), fileMb: mb(kb(status, 'RssFile')), pssMb: mb(pss) };
}

const UNIT_US = { us: 1, ms: 1000, s: 1_000_000 };
const toUs = (text) => {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  return match ? Number(match[1]) * UNIT_US[match[2]] : NaN;
};

/** Runs wrk against a URL; returns requests/s, requests, errors, and the p50/p99 in µs when `--latency` was asked. */
async function wrk(url, { connections, seconds, latency = false }) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, ...(latency ? ['--latency'] : []), url];
  const { stdout } = await run('wrk', args, { timeoutMs: (seconds + 30) * 1000 });
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  if (!Number.isFinite(requestsPerSecond)) throw new Error(`could not read wrk's output:\n${stdout}`);
  const result = { requestsPerSecond: round(requestsPerSecond), requests, errors: non2xx + socketErrors };
  if (latency) {
    result.p50Us = toUs(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? '');
    result.p99Us = toUs(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '');
  }
  return result;
}

/** A throughput run with the CPU the proxy (and the collector) used per request. */
async function measure(url, server, collector) {
  const cpuBefore = cpuSeconds(server.pid);
  const collectorBefore = collector ? cpuSeconds(collector.pid) : 0;
  const result = await wrk(url, { connections: CONNECTIONS, seconds: SECONDS });
  const proxyCpu = cpuSeconds(server.pid) - cpuBefore;
  result.proxyCpuPercent = round((proxyCpu / SECONDS) * 100);
  result.proxyCpuUsPerRequest = round((proxyCpu * 1e6) / result.requests, 1);
  if (collector) result.collectorCpuPercent = round(((cpuSeconds(collector.pid) - collectorBefore) / SECONDS) * 100);
  return result;
}

function upstreamNginxConf(dir, port) {
  return `worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 65s;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "ok"; }
  }
}
`;
}

function proxyNginxConf(dir, port, upstreamPort) {
  return `worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 65s;
  keepalive_requests 10000000;
  upstream backend {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

function haproxyConf(port, upstreamPort) {
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bench
  bind 127.0.0.1:${port}
  default_backend upstream
backend upstream
  server up 127.0.0.1:${upstreamPort}
`;
}

async function startNginx(dir, name, conf, port) {
  const prefix = join(dir, name);
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  writeFileSync(join(prefix, 'nginx.conf'), conf(prefix));
  return startServer(name, 'nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', `daemon off; pid ${prefix}/nginx.pid;`], { port });
}

/** Bundles src/mesh/proxy-bin.ts (the program a proxy container runs) into the work directory. */
async function bundleMeshProxy(dir) {
  const { build } = await import('esbuild');
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const outfile = join(dir, 'mesh-proxy.mjs');
  await build({
    entryPoints: [join(repo, 'src/mesh/proxy-bin.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    define: { __FLOTILLA_VERSION__: JSON.stringify(version) },
    // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
    banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);" },
  });
  return outfile;
}

/** The node flags the proxy image runs its proxy with (src/deploy/mesh-proxy-process.ts, bundled here as the bench bundles the proxy). */
async function meshProxyNodeFlags() {
  const { build } = await import('esbuild');
  const result = await build({ entryPoints: [join(repo, 'src/deploy/mesh-proxy-process.ts')], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'warning' });
  const { MESH_PROXY_NODE_FLAGS } = await import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`);
  return [...MESH_PROXY_NODE_FLAGS];
}

/**
 * Starts one service's mesh proxy as its own process, as a container would run it; `execPath` is
 * this node unless given. `callerServices` are names the proxy resolves every 5 s (dns.lookup, on
 * libuv's thread pool), as a container resolves the project's services.
 */
async function startMeshProxy(dir, bundle, { service, kind, port, upstreamPort, collectorUrl, nodeArgs = [], execPath = process.execPath, callerServices, shared = [] }) {
  // `shared` names more services served by the same process on the same port (told apart by Host).
  const entry = (name) => ({ service: name, version: 'bench', names: [name], listeners: [{ port, kind, upstreams: [`127.0.0.1:${upstreamPort}`] }] });
  const config = {
    services: [service, ...shared].map(entry),
    host: '127.0.0.1',
    api: { host: '127.0.0.1', port: 0 },
    ...(collectorUrl ? { collector: collectorUrl } : {}),
    callers: { '127.0.0.1': 'wrk' },
    ...(callerServices ? { callerServices } : {}),
  };
  const file = join(dir, `${service}.json`);
  writeFileSync(file, JSON.stringify(config));
  return startServer(`mesh proxy ${service}`, execPath, [...nodeArgs, bundle, file], { ready: /mesh proxy started/, cwd: dir });
}

/** For reference only: the least a node:http reverse proxy does (no telemetry, no header rules, no retries). */
const BARE_FORWARDER = `import http from 'node:http';
const [port, upstreamPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });
http.createServer({ keepAlive: true, noDelay: true }, (request, response) => {
  const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, method: request.method, path: request.url, headers: request.headers, agent }, (answer) => {
    response.writeHead(answer.statusCode, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => response.destroy());
  request.pipe(upstream);
}).listen(port, '127.0.0.1');
`;

async function startCollector(bin, dir, port) {
  const data = join(dir, 'collector');
  mkdirSync(data, { recursive: true });
  return startServer('flotilla serve', process.execPath, [bin, 'serve', '--no-agent', '--host', '127.0.0.1', '--port', String(port), '--data-dir', data, '--output', 'json'], {
    env: { ...process.env, FLOTILLA_STATE_DIR: data },
    ready: /"listening"/,
  });
}

/** Spans and metric points the collector stored (read after it stopped). */
function storedTelemetry(dir) {
  const Database = createRequire(join(repo, 'package.json'))('better-sqlite3');
  const db = new Database(join(dir, 'collector', 'telemetry.db'), { readonly: true });
  try {
    const count = (table) => db.prepare(`SELECT count(*) AS n FROM ${table}`).get().n;
    return { spans: count('spans'), metricPoints: count('metric_points') };
  } finally {
    db.close();
  }
}

/**
 * Runs `variants` alternating (A B, B A, ...) for `rounds` rounds, or fewer when the bench's budget is
 * spent (at least one). Each variant returns a result object; returns them by name.
 */
async function alternateRuns(variants, rounds, started) {
  const names = Object.keys(variants);
  const results = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < rounds && (r === 0 || Date.now() - started < BUDGET_MS); r++) {
    const order = r % 2 ? [...names].reverse() : names;
    for (const name of order) results[name].push(await variants[name]());
  }
  return results;
}

/** Median, min and max of a field over runs. */
function stat(runs, field) {
  const values = runs.map((one) => one[field]);
  return { median: round(median(values)), min: round(Math.min(...values)), max: round(Math.max(...values)), samples: values };
}

/** A light, paced load: `rate` GETs a second on keep-alive connections for `seconds`; resolves with the count answered 200. */
async function lightLoad(port, rate, seconds, host = undefined) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let ok = 0;
  let failed = 0;
  const pending = [];
  const started = Date.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      new Promise((done) => {
        const request = http.get({ host: '127.0.0.1', port, path: `/items/${i % 50}`, agent, ...(host && { headers: { host: `${host}:${port}` } }) }, (response) => {
          response.resume();
          response.once('end', () => {
            if (response.statusCode === 200) ok++;
            else failed++;
            done();
          });
        });
        request.setTimeout(10_000, () => request.destroy(new Error('timeout')));
        request.once('error', () => {
          failed++;
          done();
        });
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return { ok, failed };
}

const mark = (ok) => (ok ? 'OK    ' : 'MISSED');

/** A bare node process's memory, for the verdict line. */
const bareNodeText = (bare) => `${bare.rssMb} MB, ${bare.fileMb} MB of it mapped files, mostly the node binary`;

/**
 * Phases 1 to 3, those MESH_BENCH_PHASES names: the proxies against HAProxy and nginx, throughput
 * then added latency. Returns their figures and the HTTP requests the telemetry proxy carried.
 */
async function proxyPhases({ dir, bundle, versions, version, ports, collector, collectorUrl, started }) {
  const { upstreamPort, tcpPort, haproxyPort, httpPort, nginxPort, quietPort, barePort } = ports;
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyConf(haproxyPort, upstreamPort));
  const haproxy = await startServer('haproxy', 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { port: haproxyPort });
  const nginx = await startNginx(dir, 'proxy', (prefix) => proxyNginxConf(prefix, nginxPort, upstreamPort), nginxPort);
  const meshTcp = await startMeshProxy(dir, bundle, { service: 'bench-tcp', kind: 'tcp', port: tcpPort, upstreamPort, collectorUrl });
  const meshHttp = await startMeshProxy(dir, bundle, { service: 'bench-http', kind: 'http', port: httpPort, upstreamPort, collectorUrl });
  // For reference, not for a verdict: the same proxy without telemetry, and a bare node:http forwarder.
  const meshQuiet = await startMeshProxy(dir, bundle, { service: 'bench-http-quiet', kind: 'http', port: quietPort, upstreamPort });
  writeFileSync(join(dir, 'bare-forwarder.mjs'), BARE_FORWARDER);
  const bareForwarder = await startServer('bare forwarder', process.execPath, [join(dir, 'bare-forwarder.mjs'), String(barePort), String(upstreamPort)], { port: barePort });
  const url = (port) => `http://127.0.0.1:${port}/items/42`;
  console.log(`${versions.haproxy}; ${versions.nginx}; ${versions.wrk}; flotilla ${version}`);
  console.log(`upstream nginx :${upstreamPort}; collector :${ports.collectorPort}; flotilla tcp :${tcpPort}, haproxy :${haproxyPort}, flotilla http :${httpPort}, nginx :${nginxPort}; reference: flotilla http without telemetry :${quietPort}, bare node:http forwarder :${barePort}`);
  console.log(`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} alternating rounds each; latency wrk -t1 -c1 -d${LATENCY_SECONDS}s --latency, ${LATENCY_ROUNDS} rounds`);

  // Warm-up, untimed: the JIT optimises the proxies' hot paths, pools fill.
  let proxiedHttpRequests = 0;
  for (const port of [upstreamPort, tcpPort, haproxyPort, httpPort, nginxPort, quietPort, barePort]) {
    const warm = await wrk(url(port), { connections: CONNECTIONS, seconds: 3 });
    if (warm.errors > 0) throw new Error(`warm-up against :${port} had ${warm.errors} errors`);
    if (port === httpPort) proxiedHttpRequests += warm.requests;
  }

  let throughput;
  let errors = 0;
  let busy;
  if (selected('throughput')) {
    // 1 and 2: throughput, alternating.
    const tcp = await alternateRuns({ flotilla: () => measure(url(tcpPort), meshTcp), haproxy: () => measure(url(haproxyPort), haproxy) }, ROUNDS, started);
    const httpRuns = await alternateRuns(
      {
        flotilla: () => measure(url(httpPort), meshHttp, collector),
        nginx: () => measure(url(nginxPort), nginx),
        flotillaNoTelemetry: () => measure(url(quietPort), meshQuiet),
        bareForwarder: () => measure(url(barePort), bareForwarder),
      },
      ROUNDS,
      started,
    );
    proxiedHttpRequests += httpRuns.flotilla.reduce((sum, one) => sum + one.requests, 0);
    const pairRatio = (a, b) => round(median(a.map((one, i) => one.requestsPerSecond / b[i].requestsPerSecond)), 2);
    throughput = {
      tcp: {
        flotilla: { ...stat(tcp.flotilla, 'requestsPerSecond'), runs: tcp.flotilla },
        haproxy: { ...stat(tcp.haproxy, 'requestsPerSecond'), runs: tcp.haproxy },
      },
      http: {
        flotilla: { ...stat(httpRuns.flotilla, 'requestsPerSecond'), runs: httpRuns.flotilla },
        nginx: { ...stat(httpRuns.nginx, 'requestsPerSecond'), runs: httpRuns.nginx },
        reference: {
          flotillaNoTelemetry: { ...stat(httpRuns.flotillaNoTelemetry, 'requestsPerSecond'), runs: httpRuns.flotillaNoTelemetry },
          bareNodeForwarder: { ...stat(httpRuns.bareForwarder, 'requestsPerSecond'), runs: httpRuns.bareForwarder },
        },
      },
    };
    throughput.tcp.ratio = round(throughput.tcp.flotilla.median / throughput.tcp.haproxy.median, 2);
    throughput.tcp.pairedRatio = pairRatio(tcp.flotilla, tcp.haproxy);
    throughput.http.ratio = round(throughput.http.flotilla.median / throughput.http.nginx.median, 2);
    throughput.http.pairedRatio = pairRatio(httpRuns.flotilla, httpRuns.nginx);
    errors = [...tcp.flotilla, ...tcp.haproxy, ...Object.values(httpRuns).flat()].reduce((sum, one) => sum + one.errors, 0);
    const showRuns = (name, runs) =>
      console.log(`  ${name.padEnd(14)} median ${String(stat(runs, 'requestsPerSecond').median).padStart(9)} req/s  (${runs.map((one) => Math.round(one.requestsPerSecond)).join(', ')}); proxy CPU ${round(median(runs.map((one) => one.proxyCpuPercent)))}%, ${round(median(runs.map((one) => one.proxyCpuUsPerRequest)))} µs/request${runs[0].collectorCpuPercent === undefined ? '' : `; collector CPU ${round(median(runs.map((one) => one.collectorCpuPercent)))}%`}`);
    console.log('\nTCP mode');
    showRuns('flotilla tcp', tcp.flotilla);
    showRuns('haproxy', tcp.haproxy);
    console.log(`  ratio of medians ${throughput.tcp.ratio}x, median of per-round ratios ${throughput.tcp.pairedRatio}x`);
    console.log('HTTP mode');
    showRuns('flotilla http', httpRuns.flotilla);
    showRuns('nginx', httpRuns.nginx);
    console.log(`  ratio of medians ${throughput.http.ratio}x, median of per-round ratios ${throughput.http.pairedRatio}x`);
    showRuns('(no telemetry)', httpRuns.flotillaNoTelemetry);
    showRuns('(bare node)', httpRuns.bareForwarder);
    throughput.http.reference.flotillaNoTelemetry.ratioToNginx = round(throughput.http.reference.flotillaNoTelemetry.median / throughput.http.nginx.median, 2);
    throughput.http.reference.bareNodeForwarder.ratioToNginx = round(throughput.http.reference.bareNodeForwarder.median / throughput.http.nginx.median, 2);
    console.log(`  for reference, against nginx: flotilla without telemetry ${throughput.http.reference.flotillaNoTelemetry.ratioToNginx}x, a bare node:http forwarder ${throughput.http.reference.bareNodeForwarder.ratioToNginx}x`);
    console.log(`  wrk errors (non-2xx + socket) over all throughput runs: ${errors}`);
    busy = { http: memory(meshHttp.pid), tcp: memory(meshTcp.pid) };
  }

  let latency;
  if (selected('latency')) {
    // 3: added latency, one connection, the five targets rotated each round.
    const latencyTargets = { direct: upstreamPort, 'flotilla tcp': tcpPort, haproxy: haproxyPort, 'flotilla http': httpPort, nginx: nginxPort };
    const latencyRuns = Object.fromEntries(Object.keys(latencyTargets).map((name) => [name, []]));
    const names = Object.keys(latencyTargets);
    for (let r = 0; r < LATENCY_ROUNDS && (r === 0 || Date.now() - started < BUDGET_MS); r++) {
      const order = [...names.slice(r % names.length), ...names.slice(0, r % names.length)];
      for (const name of r % 2 ? order.reverse() : order) {
        const result = await wrk(url(latencyTargets[name]), { connections: 1, seconds: LATENCY_SECONDS, latency: true });
        if (name === 'flotilla http') proxiedHttpRequests += result.requests;
        latencyRuns[name].push(result);
      }
    }
    latency = {};
    console.log('\nLatency, one connection (p50 of each run; added = median over rounds of proxy p50 − direct p50 of the same round)');
    for (const name of names) {
      const p50 = stat(latencyRuns[name], 'p50Us');
      const p99 = stat(latencyRuns[name], 'p99Us');
      const added = name === 'direct' ? undefined : round(median(latencyRuns[name].map((one, i) => one.p50Us - latencyRuns.direct[i].p50Us)));
      latency[name] = { p50Us: p50, p99UsMedian: p99.median, requestsPerSecondMedian: stat(latencyRuns[name], 'requestsPerSecond').median, ...(added === undefined ? {} : { addedP50Us: added }) };
      console.log(`  ${name.padEnd(14)} p50 ${String(p50.median).padStart(6)} µs (${p50.samples.join(', ')})  p99 ${p99.median} µs${added === undefined ? '' : `  added p50 ${added} µs`}`);
    }
  }

  await stopServer(meshTcp);
  await stopServer(meshHttp);
  await stopServer(meshQuiet);
  await stopServer(bareForwarder);
  await stopServer(haproxy);
  await stopServer(nginx);
  return { throughput, errors, latency, busy, proxiedHttpRequests };
}

/**
 * Phase 4: one proxy process per service (HTTP listeners, telemetry on, a light load), run as the
 * proxy image runs it: its bundle and node flags. The proxies run a copy of node of
 * their own: proxy containers share their image's node binary with each other and with nothing else,
 * while here the collector and this bench run node too, and Pss would split the binary's pages with
 * them. Returns the figures and the requests answered.
 */
async function memoryPhase({ dir, upstreamPort, collectorUrl, memoryPorts }) {
  const proxyBundle = join(dir, 'flotilla-mesh-proxy.cjs');
  await buildMeshProxy(proxyBundle);
  const imageFlags = await meshProxyNodeFlags();
  const proxyNode = join(dir, 'node');
  copyFileSync(process.execPath, proxyNode);
  chmodSync(proxyNode, 0o755);
  const bare = await startServer('bare node', process.execPath, ['-e', 'setInterval(() => {}, 1000); console.log("ready")'], { ready: /ready/ });
  await sleep(500);
  const bareNode = memory(bare.pid);
  await stopServer(bare);
  console.log(`\nMemory: the proxy bundle (${round(statSync(proxyBundle).size / 1024)} KiB) run as the image runs it: node ${imageFlags.join(' ')} flotilla-mesh-proxy.cjs`);
  const memoryPhases = {};
  let answeredRequests = 0;
  // One process for 1, 2, 5 services (as `up` lays them out); 5 processes of one service each; one with node's defaults.
  const phases = [
    { name: '1 service', processes: 1, perProcess: 1, nodeArgs: imageFlags },
    { name: '2 services, one process', processes: 1, perProcess: 2, nodeArgs: imageFlags },
    { name: '5 services, one process', processes: 1, perProcess: 5, nodeArgs: imageFlags },
    { name: '5 services, a process each (before)', processes: 5, perProcess: 1, nodeArgs: imageFlags },
    { name: '1 service, node defaults (reference)', processes: 1, perProcess: 1, nodeArgs: [] },
  ];
  for (const [index, phase] of phases.entries()) {
    const proxies = [];
    const loads = []; // [port, host] per service
    for (let i = 0; i < phase.processes; i++) {
      const names = Array.from({ length: phase.perProcess }, (_, k) => `svc${index}-${i + 1}-${k + 1}`);
      // callerServices: resolved every 5 s with dns.lookup, as a container resolves the project's services, so libuv's threads run as they do there.
      const options = { service: names[0], shared: names.slice(1), kind: 'http', port: memoryPorts[i], upstreamPort, collectorUrl, nodeArgs: phase.nodeArgs, execPath: proxyNode, callerServices: ['localhost'] };
      proxies.push(await startMeshProxy(dir, proxyBundle, options));
      for (const name of names) loads.push([memoryPorts[i], names.length > 1 ? name : undefined]);
    }
    await sleep(1000);
    const idle = proxies.map((proxy) => memory(proxy.pid));
    // Warm-up: 5 s at the light rate, then the load: LIGHT_SECONDS more, each service at LIGHT_RATE.
    const warm = await Promise.all(loads.map(([port, host]) => lightLoad(port, LIGHT_RATE, 5, host)));
    const afterWarmUp = proxies.map((proxy) => memory(proxy.pid));
    const load = await Promise.all(loads.map(([port, host]) => lightLoad(port, LIGHT_RATE, LIGHT_SECONDS, host)));
    await sleep(1500); // a telemetry flush
    const afterLoad = proxies.map((proxy) => memory(proxy.pid));
    const answered = [...warm, ...load].reduce((sum, one) => sum + one.ok, 0);
    const failed = [...warm, ...load].reduce((sum, one) => sum + one.failed, 0);
    answeredRequests += answered;
    for (const proxy of proxies) await stopServer(proxy);
    const sum = (list, field) => round(list.reduce((total, one) => total + one[field], 0));
    const max = (list, field) => Math.max(...list.map((one) => one[field]));
    const services = phase.processes * phase.perProcess;
    memoryPhases[phase.name] = {
      processes: phase.processes,
      services,
      nodeArgs: phase.nodeArgs,
      idle,
      afterWarmUp,
      afterLoad,
      answered,
      failed,
      totalRssMbAfterLoad: sum(afterLoad, 'rssMb'),
      totalPssMbAfterLoad: sum(afterLoad, 'pssMb'),
      rssMbPerServiceAfterLoad: round(sum(afterLoad, 'rssMb') / services),
      maxRssMbAfterLoad: max(afterLoad, 'rssMb'),
      maxPssMbAfterLoad: max(afterLoad, 'pssMb'),
      maxAnonMbAfterLoad: max(afterLoad, 'anonMb'),
      maxHwmMb: max(afterLoad, 'hwmMb'),
    };
    const show = (list, field) => list.map((one) => one[field]).join(', ');
    console.log(`\nMemory, ${phase.name} (${phase.processes} process${phase.processes > 1 ? 'es' : ''}, ${services} service${services > 1 ? 's' : ''} at ${LIGHT_RATE} req/s each): ${answered} answered, ${failed} failed`);
    console.log(`  idle after start: RSS ${show(idle, 'rssMb')} MB (anon ${show(idle, 'anonMb')}); Pss ${show(idle, 'pssMb')} MB`);
    console.log(`  after warm-up:    RSS ${show(afterWarmUp, 'rssMb')} MB (anon ${show(afterWarmUp, 'anonMb')}); Pss ${show(afterWarmUp, 'pssMb')} MB`);
    console.log(`  after the load:   RSS ${show(afterLoad, 'rssMb')} MB (anon ${show(afterLoad, 'anonMb')}); VmHWM ${show(afterLoad, 'hwmMb')} MB; Pss ${show(afterLoad, 'pssMb')} MB`);
    console.log(`  RSS per proxied service: ${memoryPhases[phase.name].rssMbPerServiceAfterLoad} MB (target ≤ ${TARGETS.rssMbPerService})`);
  }
  console.log(`\n  bare node (setInterval only): RSS ${bareNode.rssMb} MB (anon ${bareNode.anonMb} MB, file ${bareNode.fileMb} MB)`);
  return { figures: { bundleBytes: statSync(proxyBundle).size, nodeArgs: imageFlags, bareNode, services: memoryPhases }, answeredRequests };
}


main(async () => {
  const started = Date.now();
  const facts = machine(); // the load average at the start; writeResult adds the one at the end
  for (const tool of ['wrk', 'haproxy', 'nginx']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (apt-get install -y haproxy nginx wrk)`);
  }
  const dir = workDirectory('mesh-proxy');
  // Registered before cleanupOnExit, so on the way out the servers die before their directory goes.
  process.once('exit', killChildren);
  cleanupOnExit([], [dir]);
  const { bin, version } = await snapshotCli(dir);
  const versions = {
    flotilla: version,
    haproxy: spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].trim(),
    nginx: spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim(),
    wrk: spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].trim(),
  };
  const [upstreamPort, collectorPort, tcpPort, haproxyPort, httpPort, nginxPort, quietPort, barePort, ...memoryPorts] = await freePorts(14, 28100);
  const ports = { upstreamPort, collectorPort, tcpPort, haproxyPort, httpPort, nginxPort, quietPort, barePort };
  console.log(`phases: ${PHASES.join(', ')}`);

  const upstream = await startNginx(dir, 'upstream', (prefix) => upstreamNginxConf(prefix, upstreamPort), upstreamPort);
  const collector = await startCollector(bin, dir, collectorPort);
  const collectorUrl = `http://127.0.0.1:${collectorPort}`;

  let proxiedHttpRequests = 0;
  let proxied = { throughput: undefined, errors: 0, latency: undefined, busy: undefined };
  if (selected('throughput') || selected('latency')) {
    proxied = await proxyPhases({ dir, bundle: await bundleMeshProxy(dir), versions, version, ports, collector, collectorUrl, started });
    proxiedHttpRequests += proxied.proxiedHttpRequests;
  }
  const { throughput, errors, latency, busy } = proxied;

  let memoryFigures;
  if (selected('memory')) {
    const { figures, answeredRequests } = await memoryPhase({ dir, upstreamPort, collectorUrl, memoryPorts });
    memoryFigures = figures;
    proxiedHttpRequests += answeredRequests;
  }
  if (busy) {
    console.log(`  after the throughput runs (${CONNECTIONS} connections): flotilla http RSS ${busy.http.rssMb} MB, VmHWM ${busy.http.hwmMb} MB; flotilla tcp RSS ${busy.tcp.rssMb} MB, VmHWM ${busy.tcp.hwmMb} MB`);
  }

  await stopServer(collector);
  await stopServer(upstream);
  const telemetry = storedTelemetry(dir);
  console.log(`\ntelemetry: ${telemetry.spans} spans and ${telemetry.metricPoints} metric points stored for ${proxiedHttpRequests} proxied HTTP requests (2 spans each: ${round((telemetry.spans / 2 / proxiedHttpRequests) * 100)}% delivered)`);

  const verdicts = {};
  console.log('');
  if (throughput) {
    verdicts.tcpThroughput = throughput.tcp.ratio >= TARGETS.tcpRatio;
    verdicts.httpThroughput = throughput.http.ratio >= TARGETS.httpRatio;
    console.log(`${mark(verdicts.tcpThroughput)} tcp throughput vs haproxy: ${throughput.tcp.ratio}x (target ≥ ${TARGETS.tcpRatio}x)`);
    console.log(`${mark(verdicts.httpThroughput)} http throughput vs nginx: ${throughput.http.ratio}x (target ≥ ${TARGETS.httpRatio}x)`);
  }
  if (latency) {
    verdicts.tcpLatency = latency['flotilla tcp'].addedP50Us < TARGETS.tcpAddedUs;
    verdicts.httpLatency = latency['flotilla http'].addedP50Us < TARGETS.httpAddedUs;
    console.log(`${mark(verdicts.tcpLatency)} tcp added p50 latency: ${latency['flotilla tcp'].addedP50Us} µs (target < ${TARGETS.tcpAddedUs} µs; haproxy ${latency.haproxy.addedP50Us} µs)`);
    console.log(`${mark(verdicts.httpLatency)} http added p50 latency: ${latency['flotilla http'].addedP50Us} µs (target < ${TARGETS.httpAddedUs} µs; nginx ${latency.nginx.addedP50Us} µs)`);
  }
  if (memoryFigures) {
    // After the light load, with the image's settings: the process's RSS over the services it
    // serves, as `up` lays them out (one proxy for the services of one network). RSS counts every
    // page the process maps, the node binary's included; Pss splits pages shared with other processes.
    const shared = ['2 services, one process', '5 services, one process'].map((name) => memoryFigures.services[name]);
    const alone = memoryFigures.services['1 service'];
    const before = memoryFigures.services['5 services, a process each (before)'];
    verdicts.memory = Math.max(...shared.map((one) => one.rssMbPerServiceAfterLoad)) <= TARGETS.rssMbPerService;
    console.log(`${mark(verdicts.memory)} memory per proxied service, RSS: ${shared[0].rssMbPerServiceAfterLoad} MB with 2 services, ${shared[1].rssMbPerServiceAfterLoad} MB with 5 (one process: ${shared[0].maxRssMbAfterLoad} and ${shared[1].maxRssMbAfterLoad} MB) (target ≤ ${TARGETS.rssMbPerService} MB)`);
    console.log(`   one meshed service alone: ${alone.rssMbPerServiceAfterLoad} MB RSS (a bare node process: ${bareNodeText(memoryFigures.bareNode)}); a process per service, as before: ${before.rssMbPerServiceAfterLoad} MB each`);
  }

  writeResult(PHASES.length === ALL_PHASES.length ? 'mesh-proxy' : `mesh-proxy-${PHASES.join('-')}`, {
    ...facts,
    measures: 'the mesh proxy (runMeshProxy in its own node process, telemetry on to flotilla serve) vs HAProxy (mode tcp) and nginx (reverse proxy, upstream keep-alive), loopback, upstream nginx return 200, wrk',
    phases: PHASES,
    params: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, latencySeconds: LATENCY_SECONDS, latencyRounds: LATENCY_ROUNDS, lightRate: LIGHT_RATE, lightSeconds: LIGHT_SECONDS, comparators: '1 thread / 1 worker each, as the mesh proxy is one event loop', versions },
    ...(throughput && { throughput, wrkErrors: errors }),
    ...(latency && { latency }),
    ...((memoryFigures || busy) && { memory: { ...memoryFigures, ...(busy && { afterThroughputRuns: busy }) } }),
    telemetry: { ...telemetry, proxiedHttpRequests },
    targets: TARGETS,
    verdicts,
  });
});
