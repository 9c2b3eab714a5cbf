// The load generator of bench/telemetry-ingest.mjs, in a process of its own so that its CPU is not
// the collector's. Posts pre-encoded OTLP protobuf bodies over keep-alive connections on loopback:
//   closed loop: `concurrency` requests in flight, each sent when the last one was answered;
//   open loop:   `rate` requests per second whatever the answers, at most `maxInFlight` at once.
// Bounded by `seconds`. Prints one JSON line: requests and records by status, and latency.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [url, payloadFile, mode, concurrencyOrRate, seconds, recordsPerRequest] = process.argv.slice(2);
if (!url?.startsWith('http://127.') || !payloadFile) throw new Error('usage: ingest-load.mjs http://127.x.x.x:port/v1/logs payloads.bin closed|open N seconds records');
const bodies = splitPayloads(readFileSync(payloadFile));
const perRequest = Number(recordsPerRequest);
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const deadline = performance.now() + Number(seconds) * 1000;
const statuses = {};
let next = 0;
let inFlight = 0;
const latencies = [];

function splitPayloads(buffer) {
  const out = [];
  for (let at = 0; at < buffer.length;) {
    const length = buffer.readUInt32LE(at);
    out.push(buffer.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

function post() {
  const body = bodies[next++ % bodies.length];
  const started = performance.now();
  inFlight += 1;
  return new Promise((resolve) => {
    const request = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (response) => {
      response.resume();
      response.on('end', () => {
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        latencies.push(performance.now() - started);
        inFlight -= 1;
        resolve();
      });
    });
    request.on('error', (error) => {
      statuses[error.code ?? 'error'] = (statuses[error.code ?? 'error'] ?? 0) + 1;
      inFlight -= 1;
      resolve();
    });
    request.end(body);
  });
}

const started = performance.now();
if (mode === 'closed') {
  await Promise.all(Array.from({ length: Number(concurrencyOrRate) }, async () => {
    while (performance.now() < deadline) await post();
  }));
} else {
  const rate = Number(concurrencyOrRate);
  const maxInFlight = 512;
  let sent = 0;
  let skipped = 0;
  const pending = new Set();
  while (performance.now() < deadline) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent += 1) {
      if (inFlight >= maxInFlight) {
        skipped += 1;
        continue;
      }
      const promise = post();
      pending.add(promise);
      promise.then(() => pending.delete(promise));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(pending);
  statuses.notSentInFlightCap = skipped;
}
const elapsedS = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0;
agent.destroy();
console.log(JSON.stringify({ statuses, elapsedS, perRequest, okRecordsPerSecond: ((statuses[200] ?? 0) * perRequest) / elapsedS, p50Ms: pct(50), p99Ms: pct(99) }));
