// Benchmark: OTLP/HTTP ingest into one collector process (`flotilla serve`), protobuf bodies made
// by the official OpenTelemetry JS serializers (512 records a request, the JS SDK's batch size),
// posted over loopback by bench/ingest-load.mjs in a process of its own. Stored = committed to
// SQLite with the full-text index (the collector answers only after the commit).
//   1. logs, closed loop (8 requests in flight), 15 s: records/s stored. Target ≥ 50,000
//      (5x the OpenTelemetry Collector's published sizing of 10,000 log records/s per core).
//   2. spans, the same: target ≥ 30,000 (2x its 15,000 spans/s per core).
//   3. overload: an open loop offering ten times the measured log rate, 15 s: the collector's
//      peak RSS must stay under 512 MB, and what it cannot take it answers with 429/503.
// Peak RSS (VmHWM) and CPU of the collector process are read from /proc.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupOnExit, freePorts, machine, main, prng, repo, snapshotCli, workDirectory, writeResult } from './lib.mjs';

const round = (value, places = 1) => Math.round(value * 10 ** places) / 10 ** places;

const SECONDS = Number(process.env.FLOTILLA_BENCH_SECONDS ?? 15);
const PER_REQUEST = 512;
const PAYLOADS = 40;
const LOG_TARGET = 50_000;
const SPAN_TARGET = 30_000;
const RSS_CEILING_MB = 512;
const CONCURRENCY = 8;

const random = prng(11);
const pick = (items) => items[Math.floor(random() * items.length)];
const WORDS = ['order', 'payment', 'stock', 'reserved', 'declined', 'timeout', 'retry', 'customer', 'cart', 'shipped', 'refund', 'invoice', 'widget', 'gadget', 'gizmo'];
const SERVICES = ['gateway', 'orders', 'inventory', 'payments', 'shipping'];

/** Request bodies from the official serializers, length-prefixed into one file for the load generator. */
async function writePayloads(file, kind) {
  const { ProtobufLogsSerializer, ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const chunks = [];
  for (let p = 0; p < PAYLOADS; p += 1) {
    const service = SERVICES[p % SERVICES.length];
    const resource = resourceFromAttributes({ 'service.name': service, 'service.namespace': 'shop', 'container.id': `c0ffee${p}`, 'vcs.revision': 'a1b2c3d' });
    const body = kind === 'logs' ? ProtobufLogsSerializer.serializeRequest(await logRecords(resource)) : ProtobufTraceSerializer.serializeRequest(await spans(resource));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.length);
    chunks.push(length, Buffer.from(body));
  }
  writeFileSync(file, Buffer.concat(chunks));
}

async function logRecords(resource) {
  const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = await import('@opentelemetry/sdk-logs');
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('bench', '1.0.0');
  for (let i = 0; i < PER_REQUEST; i += 1) {
    const words = Array.from({ length: 6 + Math.floor(random() * 8) }, () => pick(WORDS)).join(' ');
    logger.emit({
      severityNumber: pick([9, 9, 9, 13, 17]),
      severityText: 'INFO',
      body: `${words} id=${Math.floor(random() * 1e9).toString(36)}`,
      attributes: { 'http.route': pick(['/orders', '/orders/:id', '/stock']), 'order.id': `A-${i}`, 'log.iostream': 'stdout' },
    });
  }
  await provider.forceFlush();
  return exporter.getFinishedLogRecords();
}

async function spans(resource) {
  const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = await import('@opentelemetry/sdk-trace-base');
  const api = await import('@opentelemetry/api');
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('bench', '1.0.0');
  for (let i = 0; i < PER_REQUEST / 4; i += 1) {
    // Traces of four spans: server, two clients, one internal.
    const root = tracer.startSpan('POST /orders', { kind: api.SpanKind.SERVER, attributes: { 'http.route': '/orders', 'http.response.status_code': 201 } });
    const context = api.trace.setSpan(api.ROOT_CONTEXT, root);
    for (const [name, kind, attributes] of [
      ['POST', api.SpanKind.CLIENT, { 'server.address': 'inventory', 'http.request.method': 'POST' }],
      ['INSERT orders', api.SpanKind.CLIENT, { 'db.system': 'postgresql', 'peer.service': 'db' }],
      ['validate', api.SpanKind.INTERNAL, {}],
    ]) tracer.startSpan(name, { kind, attributes }, context).end();
    root.end();
  }
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

/** Peak and current RSS and CPU seconds of a process, from /proc. */
function processUsage(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { rssMb: round(kb('VmRSS') / 1024, 1), peakRssMb: round(kb('VmHWM') / 1024, 1), cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100 };
}

async function startCollector(bin, dir, port) {
  const child = spawn(process.execPath, [bin, 'serve', '--no-agent', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dir, '--output', 'json'], {
    env: { ...process.env, FLOTILLA_STATE_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`flotilla serve exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      if (String(chunk).includes('"listening"')) resolve();
    });
  });
  child.stdout.resume();
  return child;
}

function load(url, payloads, mode, n, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, 'bench', 'ingest-load.mjs'), url, payloads, mode, String(n), String(seconds), String(PER_REQUEST)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited with ${code}`))));
  });
}

/** Runs one phase against the collector, sampling its RSS every 100 ms; returns the load's figures and the collector's. */
async function phase(collector, url, payloads, mode, n) {
  const before = processUsage(collector.pid);
  let peakSampledMb = 0;
  const sampler = setInterval(() => (peakSampledMb = Math.max(peakSampledMb, processUsage(collector.pid).rssMb)), 100);
  const result = await load(url, payloads, mode, n, SECONDS);
  clearInterval(sampler);
  const after = processUsage(collector.pid);
  return { ...result, collectorCpuPercent: round(((after.cpuSeconds - before.cpuSeconds) / result.elapsedS) * 100), collectorRssPeakMb: Math.max(peakSampledMb, after.rssMb), collectorVmHwmMb: after.peakRssMb };
}

main(async () => {
  const dir = workDirectory('ingest');
  cleanupOnExit([], [dir]);
  const { bin, version } = await snapshotCli(dir);
  const [port] = await freePorts(1, 24318);
  const logPayloads = join(dir, 'logs.bin');
  const spanPayloads = join(dir, 'spans.bin');
  await writePayloads(logPayloads, 'logs');
  await writePayloads(spanPayloads, 'traces');
  console.log(`collector: flotilla ${version} serve on 127.0.0.1:${port}; ${PER_REQUEST} records a request, ${CONCURRENCY} in flight, ${SECONDS} s a phase`);

  const collector = await startCollector(bin, dir, port);
  try {
    const base = `http://127.0.0.1:${port}`;
    await load(`${base}/v1/logs`, logPayloads, 'closed', CONCURRENCY, 2); // warm-up
    const logs = await phase(collector, `${base}/v1/logs`, logPayloads, 'closed', CONCURRENCY);
    console.log(`logs:  ${Math.round(logs.okRecordsPerSecond).toLocaleString('en')} records/s stored (statuses ${JSON.stringify(logs.statuses)}), collector CPU ${logs.collectorCpuPercent}%, RSS peak ${logs.collectorRssPeakMb} MB, request p50 ${round(logs.p50Ms, 1)} ms`);
    const traces = await phase(collector, `${base}/v1/traces`, spanPayloads, 'closed', CONCURRENCY);
    console.log(`spans: ${Math.round(traces.okRecordsPerSecond).toLocaleString('en')} spans/s stored (statuses ${JSON.stringify(traces.statuses)}), collector CPU ${traces.collectorCpuPercent}%, RSS peak ${traces.collectorRssPeakMb} MB`);
    const offeredRequestsPerSecond = Math.ceil((10 * logs.okRecordsPerSecond) / PER_REQUEST);
    const overload = await phase(collector, `${base}/v1/logs`, logPayloads, 'open', offeredRequestsPerSecond);
    const refused = (overload.statuses[429] ?? 0) + (overload.statuses[503] ?? 0);
    console.log(`overload: offered ${(offeredRequestsPerSecond * PER_REQUEST).toLocaleString('en')} records/s; stored ${Math.round(overload.okRecordsPerSecond).toLocaleString('en')}/s; refused ${refused} requests with 429/503 (statuses ${JSON.stringify(overload.statuses)}); collector RSS peak ${overload.collectorRssPeakMb} MB (VmHWM over the whole run ${overload.collectorVmHwmMb} MB)`);

    const logOk = logs.okRecordsPerSecond >= LOG_TARGET;
    const spanOk = traces.okRecordsPerSecond >= SPAN_TARGET;
    const rssOk = overload.collectorVmHwmMb < RSS_CEILING_MB && refused > 0;
    const mark = (ok) => (ok ? 'OK    ' : 'MISSED');
    console.log(`\n${mark(logOk)} log ingest: ${Math.round(logs.okRecordsPerSecond)} records/s (target ≥ ${LOG_TARGET})`);
    console.log(`${mark(spanOk)} span ingest: ${Math.round(traces.okRecordsPerSecond)} spans/s (target ≥ ${SPAN_TARGET})`);
    console.log(`${mark(rssOk)} 10x overload: peak RSS ${overload.collectorVmHwmMb} MB (ceiling ${RSS_CEILING_MB}), ${refused} requests refused with 429/503`);
    writeResult('telemetry-ingest', {
      machine: machine(),
      measures: 'records/s committed by one `flotilla serve` process from OTLP/HTTP protobuf (official serializer), loopback, separate load process',
      params: { seconds: SECONDS, perRequest: PER_REQUEST, concurrency: CONCURRENCY, version },
      logs, traces, overload: { offeredRecordsPerSecond: offeredRequestsPerSecond * PER_REQUEST, ...overload },
      targets: { logsPerSecond: LOG_TARGET, spansPerSecond: SPAN_TARGET, rssCeilingMb: RSS_CEILING_MB },
      verdicts: { logs: logOk, spans: spanOk, overload: rssOk },
    });
  } finally {
    collector.kill('SIGTERM');
    await new Promise((resolve) => collector.once('exit', resolve));
  }
});
