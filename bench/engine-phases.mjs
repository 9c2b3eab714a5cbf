// Diagnostic for up-fresh (not part of `npm run bench`): where the wall time of an `up` from
// nothing goes, for flotilla and docker-compose alike. Both talk to the Engine through a logging
// proxy on a unix socket (DOCKER_HOST), which splits each run into: start-up (process start to
// the first API call), the client's work until the first container start, and the engine's start
// phase (first `start` call to the last API answer). The proxy adds ~1 ms per call, and compose
// makes several times more calls, so use these figures for the split, and up-fresh for ratios.
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cleanupOnExit, machine, main, median, run, runId, snapshotCli, tinyStack, workDirectory, writeResult } from './lib.mjs';

const SERVICES = 10;
const ROUNDS = 5;

/** A proxy to the Engine that notes when each call started and ended. */
function tracingProxy(socket) {
  const calls = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((request, response) => {
    const call = { start: performance.now(), end: 0, method: request.method, path: request.url };
    calls.push(call);
    const upstream = http.request({ socketPath: '/var/run/docker.sock', method: request.method, path: request.url, headers: request.headers, agent }, (answer) => {
      response.writeHead(answer.statusCode, answer.headers);
      answer.pipe(response);
      answer.on('end', () => (call.end = performance.now()));
    });
    upstream.on('error', (error) => response.destroy(error));
    request.pipe(upstream);
  });
  rmSync(socket, { force: true });
  return new Promise((ready) => server.listen(socket, () => ready({ calls, close: () => (server.close(), agent.destroy()) })));
}

main(async () => {
  const id = runId();
  const dir = workDirectory('engine-phases');
  const label = `dev.flotilla.bench=${id}`;
  const project = { flotilla: `ef${id}`, compose: `ec${id}` };
  const clean = cleanupOnExit([label, `dev.flotilla.project=${project.flotilla}`, `com.docker.compose.project=${project.compose}`], [dir]);
  const cli = await snapshotCli(dir);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, tinyStack(SERVICES));
  const socket = join(dir, 'engine.sock');
  const proxy = await tracingProxy(socket);
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, FLOTILLA_EXTRA_LABELS: label, XDG_CACHE_HOME: join(dir, 'cache') };
  const tool = {
    flotilla: (...args) => run(process.execPath, [cli.bin, '-f', file, '-p', project.flotilla, ...args], { env, cwd: dir }),
    compose: (...args) => run('docker-compose', ['-f', file, '-p', project.compose, ...args], { env, cwd: dir }),
  };
  const up = { flotilla: () => tool.flotilla('up'), compose: () => tool.compose('up', '-d') };
  const down = { flotilla: () => tool.flotilla('down'), compose: () => tool.compose('down') };

  console.log(`engine-phases: where an up of ${SERVICES} services from nothing spends its time, ${ROUNDS} runs each`);
  const phases = { flotilla: [], compose: [] };
  for (const name of ['flotilla', 'compose']) {
    await up[name](); // untimed warm-up
    await down[name]();
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 ? ['compose', 'flotilla'] : ['flotilla', 'compose']) {
      proxy.calls.length = 0;
      const started = performance.now();
      const { ms } = await up[name]();
      const calls = [...proxy.calls];
      const starts = calls.filter((call) => /\/containers\/[^/]+\/start$/.test(call.path));
      const firstStart = Math.min(...starts.map((call) => call.start));
      const lastEnd = Math.max(...calls.map((call) => call.end));
      phases[name].push({
        wall: ms,
        startup: Math.min(...calls.map((call) => call.start)) - started,
        untilFirstStart: firstStart - started,
        engineStartPhase: lastEnd - firstStart,
        calls: calls.length,
      });
      await down[name]();
    }
  }
  proxy.close();

  const medians = Object.fromEntries(
    Object.entries(phases).map(([name, runs]) => [name, Object.fromEntries(Object.keys(runs[0]).map((key) => [key, Math.round(median(runs.map((r) => r[key])))]))]),
  );
  for (const [name, m] of Object.entries(medians)) {
    const share = Math.round((100 * m.engineStartPhase) / m.wall);
    console.log(
      `  ${name.padEnd(8)}  wall ${m.wall} ms ≈ start-up ${m.startup} + client work ${m.untilFirstStart - m.startup} + engine start phase ${m.engineStartPhase} (${share}%) ` +
        `+ exit ${m.wall - m.untilFirstStart - m.engineStartPhase}; ${m.calls} API calls`,
    );
  }
  const floor = Math.round((100 * medians.flotilla.engineStartPhase) / medians.compose.wall) / 100;
  console.log(`  the engine's start phase alone is ${floor}x compose's wall time: a client starting the same containers cannot go below that here`);
  writeResult('engine-phases', {
    bench: 'engine-phases',
    measures: `split of an up of ${SERVICES} services from nothing into start-up, client work and the engine's start phase, through a logging proxy`,
    command: 'node bench/engine-phases.mjs',
    machine: machine(),
    cli: { version: cli.version, bundleSha256: cli.sha256 },
    medians,
    engineFloorRatio: floor,
    runs: phases,
  });
  clean();
});
