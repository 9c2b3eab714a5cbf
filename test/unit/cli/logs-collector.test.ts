/** `flotilla logs` from the collector: oldest first across services, and --follow without repeats or gaps. */
import { stripVTControlCharacters } from 'node:util';
import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from 'vitest';
import type { CollectorClient } from '../../../src/cli/collector-client.js';
import { printCollectorLogs } from '../../../src/cli/commands/logs-collector.js';
import type { LogRecord } from '../../../src/telemetry/types.js';

const MS = 1_000_000n;
const T0 = 1_764_000_000_000n * MS;

function log(service: string, body: string, ms: number, extraNs = 0n, project = 'shop'): LogRecord {
  const time = String(T0 + BigInt(ms) * MS + extraNs);
  return {
    timeUnixNano: time, observedTimeUnixNano: time, severityNumber: 9, severityText: 'INFO', body, service, traceId: '', spanId: '',
    attributes: {}, resource: { 'service.namespace': project }, scope: { name: '', version: '' },
  };
}

/** A collector holding `stored` logs, answering /api/logs like the real one: filters by service and since (ms), newest first, limited. */
function fakeCollector(stored: LogRecord[]): CollectorClient & { queries: Record<string, unknown>[] } {
  const queries: Record<string, unknown>[] = [];
  return {
    url: 'http://127.0.0.1:4318',
    queries,
    get<T>(_path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
      queries.push(query);
      const since = query['since'] === undefined ? -1n : BigInt(String(query['since'])) * MS;
      const logs = stored
        .filter((entry) => entry.resource['service.namespace'] === query['project'])
        .filter((entry) => (query['service'] === undefined || entry.service === query['service']) && BigInt(entry.timeUnixNano) >= since)
        .sort((a, b) => (BigInt(b.timeUnixNano) > BigInt(a.timeUnixNano) ? 1 : -1))
        .slice(0, Number(query['limit']));
      return Promise.resolve({ logs } as T);
    },
  };
}

let write: MockInstance<typeof process.stdout.write>;
// Colour depends on the terminal and on CI's environment; the tests read the text.
const printed = (): string[] => write.mock.calls.map(([text]) => stripVTControlCharacters(String(text)).trimEnd());

beforeEach(() => {
  write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

describe('printCollectorLogs', () => {
  const options = { project: 'shop', limit: 3, follow: false, timestamps: false, prefix: true, signal: new AbortController().signal };

  test('merges services and prints the newest `limit` lines, oldest first', async () => {
    const stored = [log('orders', 'o1', 1), log('gateway', 'g1', 2), log('orders', 'o2', 3), log('gateway', 'g2', 4), log('gateway', 'another project', 5, 0n, 'blog')];
    await printCollectorLogs(fakeCollector(stored), { ...options, services: ['gateway', 'orders'] });
    expect(printed()).toEqual(['gateway | INFO  g1', 'orders | INFO  o2', 'gateway | INFO  g2']);
  });

  test('--follow prints each new line once: lines in the same millisecond as the last one printed, and lines that arrive late', async () => {
    const stored = [log('orders', 'first', 1), log('orders', 'second', 2)];
    const collector = fakeCollector(stored);
    const controller = new AbortController();
    const following = printCollectorLogs(collector, { ...options, limit: 10, follow: true, prefix: false, services: ['orders'], signal: controller.signal });
    // While it waits for its first poll: one more line in the same millisecond as "second", and a later one.
    stored.push(log('orders', 'second, same ms', 2, 500n), log('orders', 'third', 3));
    await vi.waitFor(() => expect(printed()).toHaveLength(4), { timeout: 5_000 });
    // A line stamped before the newest one printed, arriving late (an agent catching up).
    stored.push(log('orders', 'late, from before third', 2, 900n));
    await vi.waitFor(() => expect(printed()).toHaveLength(5), { timeout: 5_000 });
    controller.abort();
    await following;
    expect(printed()).toEqual(['INFO  first', 'INFO  second', 'INFO  second, same ms', 'INFO  third', 'INFO  late, from before third']);
    // Each poll asked only from the newest line printed on.
    expect(collector.queries.slice(1).every((query) => query['since'] !== undefined)).toBe(true);
  });
});
