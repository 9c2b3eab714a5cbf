// `npm run bench [-- NAME...]`: runs the benchmarks one after another, each in its own process
// (up-fresh, up-noop, scale, build-hash, build-noop, test-parallel, telemetry-store, telemetry-ingest, agent-shipping, mesh-proxy;
// all when none is named). Exits non-zero only when a bench
// failed to run; a missed target is printed as MISSED and is not a failure.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repo } from './lib.mjs';

const ALL = ['up-fresh', 'up-noop', 'scale', 'build-hash', 'build-noop', 'test-parallel', 'telemetry-store', 'telemetry-ingest', 'agent-shipping', 'mesh-proxy'];
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !ALL.includes(name));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(', ')} (choose from ${ALL.join(', ')})`);
  process.exit(2);
}

/** Runs bench/<name>.mjs, showing its output as it comes and keeping it to look for MISSED. */
function runBench(name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repo, 'bench', `${name}.mjs`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

const failed = [];
const missed = [];
for (const name of chosen.length ? chosen : ALL) {
  console.log(`\n=== ${name} ===`);
  const { code, output } = await runBench(name);
  if (code !== 0) failed.push(name);
  if (/^MISSED/m.test(output)) missed.push(name);
}
console.log(`\n=== summary: ${failed.length ? `FAILED TO RUN: ${failed.join(', ')}` : 'all ran'}; ${missed.length ? `targets MISSED in: ${missed.join(', ')}` : 'all targets met'} ===`);
process.exit(failed.length ? 1 : 0);
