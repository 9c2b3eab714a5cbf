// Benchmark: the telemetry store (src/telemetry/store, src/telemetry/query) at the scale.
// 1,000,000 log records with the full-text index, inserted in batches of 1,000 as the collector
// receives them (throughput reported), then ≥100 one-word searches over different words (median and
// p95; target p95 < 50 ms). Then 1,000,000 spans in realistic shop traces and the dependency map
// over all of them (target < 2 s), with RED and impact for information. No comparator: the targets
// are absolute. The TypeScript is bundled with esbuild into the work directory first: no build step.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cleanupOnExit, importSource, machine, main, prng, repo, summary, verdict, workDirectory, writeResult } from './lib.mjs';

// FLOTILLA_BENCH_RECORDS=10000 makes a quick smoke run; the targets apply to the default.
const LOGS = Number(process.env.FLOTILLA_BENCH_RECORDS ?? 1_000_000);
const SPANS = LOGS;
const BATCH = 1_000;
const SEARCHES = 120;
const MAP_RUNS = 5;
const SEARCH_TARGET_MS = 50;
const MAP_TARGET_MS = 2_000;
const BUDGET_MS = 4 * 60_000; // for the timed queries, after loading
const T0_MS = Date.UTC(2026, 10, 26, 0, 0, 0);
const HOUR_MS = 3_600_000;

const random = prng(7);
const pick = (items) => items[Math.floor(random() * items.length)];

/** The telemetry store and its queries from src/, bundled into `dir` and imported. */
function loadStore(dir) {
  const native = join(repo, 'node_modules', 'better-sqlite3', 'lib', 'index.js');
  return importSource(dir, 'telemetry-store', "export { openTelemetryStore } from './src/telemetry/store/index.ts';\nexport * from './src/telemetry/query/index.ts';\n", {
    // The native addon stays where it is installed: the bundle imports it by absolute path.
    plugins: [{ name: 'native', setup: (b) => b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: native, external: true })) }],
  });
}

// A vocabulary of 5,000 made-up words drawn with a Zipf law (s = 1), as words in logs are: a few
// very common, a long tail of rare ones. Bodies mix fixed message templates with drawn words.
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vo', 'zi', 'pe', 'su', 'do', 'ga', 'fi', 'bu', 'ch', 'wa', 'xe', 'yo', 'qu', 'har'];
const VOCABULARY = [];
for (const a of SYLLABLES) for (const b of SYLLABLES) for (const c of SYLLABLES) if (VOCABULARY.length < 5000) VOCABULARY.push(`${a}${b}${c}`);
const zipfCdf = (() => {
  const weights = VOCABULARY.map((_, rank) => 1 / (rank + 1));
  const total = weights.reduce((sum, w) => sum + w, 0);
  let running = 0;
  return weights.map((w) => (running += w / total));
})();
function zipfWord() {
  const u = random();
  let lo = 0;
  let hi = zipfCdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (zipfCdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return VOCABULARY[lo];
}
const SERVICES = ['gateway', 'orders', 'inventory', 'payments', 'users', 'catalog', 'notifications', 'fraud'];
const SEVERITIES = [
  [5, 'DEBUG', 0.2],
  [9, 'INFO', 0.6],
  [13, 'WARN', 0.12],
  [17, 'ERROR', 0.07],
  [21, 'FATAL', 0.01],
];
const TEMPLATES = [
  () => `GET /api/${pick(['orders', 'users', 'items', 'cart'])}/${Math.floor(random() * 1e6)} ${pick(['200', '200', '200', '404', '500'])} in ${Math.floor(random() * 900)}ms`,
  () => `request ${zipfWord()} ${zipfWord()} handled for user ${Math.floor(random() * 1e5)}`,
  () => `connection to ${pick(['postgres:5432', 'redis:6379', 'kafka:9092'])} ${pick(['refused', 'reset', 'established', 'timed out'])}`,
  () => Array.from({ length: 6 + Math.floor(random() * 10) }, zipfWord).join(' '),
  () => `${zipfWord()} failed: ${zipfWord()} ${zipfWord()} (attempt ${1 + Math.floor(random() * 3)})`,
];

function severity() {
  let u = random();
  for (const [number, text, weight] of SEVERITIES) if ((u -= weight) <= 0) return [number, text];
  return [9, 'INFO'];
}

function logRecord(i) {
  const [severityNumber, severityText] = severity();
  const time = (BigInt(T0_MS + Math.floor((i / LOGS) * HOUR_MS)) * 1_000_000n + BigInt(i % 1_000_000)).toString();
  const service = pick(SERVICES);
  const inTrace = random() < 0.3;
  return {
    timeUnixNano: time,
    observedTimeUnixNano: time,
    severityNumber,
    severityText,
    body: pick(TEMPLATES)(),
    service,
    traceId: inTrace ? `${i.toString(16).padStart(32, '0')}` : '',
    spanId: inTrace ? `${i.toString(16).padStart(16, '0')}` : '',
    attributes: { 'container.id': `c${service}${i % 3}`, 'log.iostream': 'stdout' },
    resource: { 'service.name': service, 'service.version': '1.4.2', 'host.name': 'node-1' },
    scope: { name: 'flotilla-agent', version: '0.1.0' },
  };
}

// The shop's call tree: each node is [service, SERVER operation, children as [kind, client operation, target node or peer]].
const PEERS = { postgresql: { 'db.system': 'postgresql' }, redis: { 'db.system': 'redis', 'peer.service': 'session-cache' }, kafka: {} };
const TREE = {
  fraud: ['fraud', 'POST /score', []],
  inventory: ['inventory', 'GET /stock', [['CLIENT', 'SELECT stock', 'postgresql']]],
  notifications: ['notifications', 'order.created process', [['CLIENT', 'INSERT outbox', 'postgresql']]],
  payments: ['payments', 'POST /charge', [['CLIENT', 'POST /score', 'fraud'], ['PRODUCER', 'order.created publish', 'notifications']]],
  orders: ['orders', 'POST /orders', [['CLIENT', 'GET /stock', 'inventory'], ['CLIENT', 'POST /charge', 'payments'], ['CLIENT', 'INSERT orders', 'postgresql']]],
  users: ['users', 'GET /me', [['CLIENT', 'GET session', 'redis'], ['CLIENT', 'SELECT users', 'postgresql']]],
  catalog: ['catalog', 'GET /items', [['CLIENT', 'GET items', 'redis'], ['CLIENT', 'SELECT items', 'postgresql']]],
};
const ENTRIES = [
  ['GET /checkout', ['users', 'orders']],
  ['GET /items', ['users', 'catalog']],
  ['GET /me', ['users']],
];

/** The spans of one trace starting at `startMs`; every call may fail (1%) or be slow. */
function traceSpans(n, startMs) {
  const traceId = n.toString(16).padStart(32, '0');
  const spans = [];
  let next = 0;
  const add = (fields, startNs, durationNs) => {
    const spanId = (next++).toString(16).padStart(16, '0');
    spans.push({
      traceId,
      spanId,
      parentSpanId: '',
      statusMessage: '',
      attributes: {},
      resource: { 'service.name': fields.service },
      scope: { name: 'otel', version: '1.30.0' },
      status: random() < 0.01 ? 'ERROR' : 'UNSET',
      startTimeUnixNano: startNs.toString(),
      endTimeUnixNano: (startNs + durationNs).toString(),
      ...fields,
    });
    return spanId;
  };
  const latency = () => BigInt(Math.floor(200_000 + 5_000_000 * -Math.log(1 - random() * 0.999)));
  const serve = (node, parentSpanId, startNs) => {
    const [service, operation, calls] = TREE[node];
    const own = latency();
    const id = add({ service, name: operation, kind: node === 'notifications' ? 'CONSUMER' : 'SERVER', parentSpanId }, startNs, own * 4n);
    for (const [kind, name, target] of calls) {
      const peer = PEERS[target];
      const clientId = add({ service, name, kind, parentSpanId: id, ...(peer && target !== 'kafka' ? { attributes: peer } : {}) }, startNs + 1000n, latency());
      if (!peer) serve(target, clientId, startNs + 2000n);
    }
  };
  const [entry, downstream] = ENTRIES[n % ENTRIES.length];
  const start = BigInt(startMs) * 1_000_000n;
  const root = add({ service: 'gateway', name: entry, kind: 'SERVER' }, start, latency() * 10n);
  for (const node of downstream) {
    const client = add({ service: 'gateway', name: TREE[node][1], kind: 'CLIENT', parentSpanId: root }, start + 500n, latency() * 5n);
    serve(node, client, start + 700n);
  }
  return spans;
}

const quantile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (value, places = 1) => Math.round(value * 10 ** places) / 10 ** places;

function timed(work) {
  const started = performance.now();
  const value = work();
  return [performance.now() - started, value];
}

main(async () => {
  const work = workDirectory('telemetry-store');
  const clean = cleanupOnExit([], [work]);
  const host = machine();
  const telemetry = await loadStore(work);
  const store = telemetry.openTelemetryStore(join(work, 'telemetry.db'));
  console.log(`telemetry-store: ${LOGS.toLocaleString('en')} logs and ${SPANS.toLocaleString('en')} spans into ${work}`);

  // Logs, in batches; the generation of each batch is untimed.
  let insertMs = 0;
  for (let i = 0; i < LOGS; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, LOGS - i) }, (_, k) => logRecord(i + k));
    const started = performance.now();
    store.insertLogs(batch);
    insertMs += performance.now() - started;
  }
  const logsPerSecond = Math.round(LOGS / (insertMs / 1000));
  console.log(`  inserted ${LOGS} logs in ${round(insertMs / 1000, 2)} s: ${logsPerSecond.toLocaleString('en')} records/s (with the full-text index)`);

  // Words spread over the frequency ranks, from the most common to the tail, each searched once.
  // Rank e^(k/n × ln 4800) − 1 + k: log-spaced through the ranks, and strictly increasing, so every word differs.
  const words = Array.from({ length: SEARCHES }, (_, k) => VOCABULARY[Math.floor(Math.exp((k / SEARCHES) * Math.log(4800))) - 1 + k]);
  const distinctWords = [...new Set(words)];
  const deadline = Date.now() + BUDGET_MS;
  telemetry.searchLogs(store, { text: 'warm', limit: 100 }); // prepares the statement, untimed
  const searchMs = [];
  const hits = [];
  for (const word of distinctWords) {
    if (Date.now() > deadline) break;
    const [ms, found] = timed(() => telemetry.searchLogs(store, { text: word, limit: 100 }));
    searchMs.push(ms);
    hits.push(found.length);
  }
  const filteredMs = [];
  for (const word of distinctWords.slice(0, 50)) {
    if (Date.now() > deadline) break;
    filteredMs.push(timed(() => telemetry.searchLogs(store, { text: word, service: 'orders', level: 'WARN', limit: 100 }))[0]);
  }
  const sorted = [...searchMs].sort((a, b) => a - b);
  const search = { ...summary(searchMs), p95: round(quantile(sorted, 95)), words: searchMs.length, pageSize: 100, emptyResults: hits.filter((h) => h === 0).length };
  const filteredSorted = [...filteredMs].sort((a, b) => a - b);
  const filtered = { ...summary(filteredMs), p95: round(quantile(filteredSorted, 95)) };
  console.log(`  word search, ${search.words} words: median ${search.median} ms, p95 ${search.p95} ms, max ${search.max} ms`);
  // What dominates: for the slowest words, the matches and the time of the full-text lookup alone.
  const slowest = distinctWords
    .map((word, k) => ({ word, ms: searchMs[k] }))
    .filter((w) => w.ms !== undefined)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5)
    .map(({ word, ms }) => {
      const [ftsMs, row] = timed(() => store.read((prepare) => prepare('SELECT COUNT(*) AS n FROM logs_fts WHERE logs_fts MATCH ?').get(`"${word}"`)));
      return { word, ms: round(ms), matches: row.n, ftsOnlyMs: round(ftsMs) };
    });
  for (const w of slowest) console.log(`    slow: "${w.word}" ${w.ms} ms, ${w.matches} matches, full-text lookup alone ${w.ftsOnlyMs} ms`);
  console.log(`  word + service + level: median ${filtered.median} ms, p95 ${filtered.p95} ms (n=${filtered.n})`);

  // Spans: whole traces spread over the hour, in batches of about BATCH spans.
  let spansStored = 0;
  let spanInsertMs = 0;
  let traces = 0;
  let pending = [];
  const flush = () => {
    const started = performance.now();
    spansStored += store.insertSpans(pending);
    spanInsertMs += performance.now() - started;
    pending = [];
  };
  while (spansStored + pending.length < SPANS) {
    const spans = traceSpans(traces, T0_MS + Math.floor((traces / 50_000) * HOUR_MS) % HOUR_MS);
    traces++;
    pending.push(...spans.slice(0, SPANS - spansStored - pending.length));
    if (pending.length >= BATCH) flush();
  }
  if (pending.length) flush();
  const spansPerSecond = Math.round(spansStored / (spanInsertMs / 1000));
  console.log(`  inserted ${spansStored} spans (${traces} traces) in ${round(spanInsertMs / 1000, 2)} s: ${spansPerSecond.toLocaleString('en')} spans/s`);

  const window = { since: T0_MS, until: T0_MS + HOUR_MS };
  const mapMs = [];
  let edges = [];
  for (let run = 0; run < MAP_RUNS && Date.now() < deadline + 60_000; run++) {
    const [ms, value] = timed(() => telemetry.dependencyMap(store, window));
    mapMs.push(ms);
    edges = value;
  }
  const map = summary(mapMs);
  console.log(`  dependencyMap over ${spansStored} spans: median ${map.median} ms, max ${map.max} ms, ${edges.length} edges, ${edges.reduce((s, e) => s + e.calls, 0)} calls`);
  for (const e of edges) console.log(`    ${e.source} → ${e.target} (${e.via}): ${e.calls} calls, ${round(e.errorRate * 100, 2)}% errors, p50 ${round(e.p50Ms, 2)} p95 ${round(e.p95Ms, 2)} p99 ${round(e.p99Ms, 2)} ms`);
  // What dominates: the two halves of the map's samples, counted without ranking them.
  const params = { since: BigInt(window.since) * 1_000_000n, until: BigInt(window.until) * 1_000_000n };
  const [joinMs] = timed(() =>
    store.read((prepare) =>
      prepare(`SELECT COUNT(*) AS n FROM spans p JOIN spans c ON c.trace_id = p.trace_id AND c.parent_span_id = p.span_id
        WHERE p.start_ns >= @since AND p.start_ns < @until AND p.kind IN ('CLIENT', 'PRODUCER') AND c.kind IN ('SERVER', 'CONSUMER')`).get(params),
    ),
  );
  const [peerMs] = timed(() =>
    store.read((prepare) =>
      prepare(`SELECT COUNT(*) AS n FROM spans p WHERE p.start_ns >= @since AND p.start_ns < @until AND p.kind = 'CLIENT' AND p.peer IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM spans c WHERE c.trace_id = p.trace_id AND c.parent_span_id = p.span_id)`).get(params),
    ),
  );
  const breakdown = { serviceEdgeJoinMs: round(joinMs), peerEdgeScanMs: round(peerMs), rankingAndRestMs: round(map.median - joinMs - peerMs) };
  console.log(`  map breakdown: service-edge join ${breakdown.serviceEdgeJoinMs} ms, peer-edge scan ${breakdown.peerEdgeScanMs} ms, ranking and the rest ≈ ${breakdown.rankingAndRestMs} ms`);
  const [redMs, report] = timed(() => telemetry.red(store, window));
  const [impactMs, entries] = timed(() => telemetry.impact(store, 'fraud', window));
  const [tracesMs] = timed(() => telemetry.findTraces(store, { service: 'payments', error: true, limit: 20 }));
  console.log(`  info: red ${round(redMs)} ms (${report.operations.length} operations), impact(fraud) ${round(impactMs)} ms (${entries.length} entry points), findTraces ${round(tracesMs)} ms`);

  const stats = store.stats();
  store.close();
  const searchVerdict = verdict(`log search p95 over ${LOGS.toLocaleString('en')} records`, search.p95, SEARCH_TARGET_MS, ' ms');
  const mapVerdict = verdict(`dependency map over ${SPANS.toLocaleString('en')} spans (median)`, map.median, MAP_TARGET_MS, ' ms');
  console.log(`\n${searchVerdict.text}\n${mapVerdict.text}`);
  clean();
  writeResult('telemetry-store', {
    bench: 'telemetry-store',
    measures: 'in-process wall time of searchLogs (one word, page of 100) over 1,000,000 logs and of dependencyMap over 1,000,000 spans; insert throughput in batches of 1,000',
    comparator: 'none: absolute targets from the issue',
    command: 'node bench/telemetry-store.mjs',
    machine: host,
    params: { logs: LOGS, spans: SPANS, batch: BATCH, vocabulary: VOCABULARY.length, services: SERVICES.length, budgetMs: BUDGET_MS },
    stored: stats,
    insert: { logsPerSecond, logsSeconds: round(insertMs / 1000, 2), spansPerSecond, spansSeconds: round(spanInsertMs / 1000, 2), traces },
    search: { ...search, slowest },
    searchFiltered: filtered,
    dependencyMap: { ...map, edges: edges.length, breakdown },
    info: { redMs: round(redMs), impactMs: round(impactMs), findTracesMs: round(tracesMs) },
    verdicts: [searchVerdict, mapVerdict],
  });
});
