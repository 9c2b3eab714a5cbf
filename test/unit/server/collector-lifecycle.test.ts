/** A running collector over real sockets: its state file, and a shutdown that answers every request in flight. */
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { readServeState, startCollector } from '../../../src/server/index.js';
import { openTelemetryStore } from '../../../src/telemetry/store/index.js';
import { anyString, fixed64, kv, len, logRecord, logsRequest } from '../telemetry/otlp/proto-builder.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-lifecycle-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('writes serve.json for its owner only, and removes it on close', async () => {
  const collector = await startCollector({ dataDir: dir, stateDir: dir, hosts: ['127.0.0.1'], port: 0, retention: {} });
  const file = path.join(dir, 'serve.json');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readServeState(dir)).toMatchObject({ pid: process.pid, url: collector.url, token: collector.token });
  await collector.close();
  expect(existsSync(file)).toBe(false);
});

test('close() answers every request in flight, and what was answered 200 is stored', async () => {
  const collector = await startCollector({ dataDir: dir, hosts: ['127.0.0.1'], port: 0, retention: {}, ingestLimits: { commitDelayMs: 200 } });
  const body = logsRequest([len(1, kv('service.name', anyString('orders')))], Array.from({ length: 100 }, (_, i) => logRecord(`line ${i}`, fixed64(1, 1_764_000_000_000_000_000n + BigInt(i)))));
  const sent = Array.from({ length: 8 }, () => fetch(`${collector.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body }));
  // Let the requests arrive and wait for their (delayed) commit, then shut down under them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closing = collector.close();
  const statuses = (await Promise.all(sent)).map((response) => response.status);
  await closing;
  expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
  const ok = statuses.filter((status) => status === 200).length;
  expect(ok).toBeGreaterThan(0);
  const store = openTelemetryStore(path.join(dir, 'telemetry.db'));
  expect(store.stats().logs.stored).toBe(ok * 100);
  store.close();
});
