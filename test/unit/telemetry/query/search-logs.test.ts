import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ftsPhrase, searchLogs } from '../../../../src/telemetry/query/index.js';
import type { TelemetryStore } from '../../../../src/telemetry/store/index.js';
import type { SeverityText } from '../../../../src/telemetry/types.js';
import { closeStores, log, T0, tempStore } from '../store/fixtures.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
let store: TelemetryStore;

beforeEach(() => {
  store = tempStore();
  store.insertLogs([
    log(1_000, { service: 'gateway', severityNumber: 9, severityText: 'INFO', body: 'GET /checkout 200 in 12ms' }),
    log(2_000, { service: 'orders', severityNumber: 13, severityText: 'WARN', body: 'slow query on orders table', traceId: TRACE, spanId: '00f067aa0ba902b7' }),
    log(3_000, { service: 'orders', severityNumber: 17, severityText: 'ERROR', body: 'Connection refused: postgres:5432', traceId: TRACE }),
    log(4_000, { service: 'inventory', severityNumber: 5, severityText: 'DEBUG', body: 'stock for sku-42 is 7' }),
    log(5_000, { service: 'gateway', severityNumber: 21, severityText: 'FATAL', body: 'out of memory; connection pool refused to grow' }),
    log(6_000, { service: 'orders', severityNumber: 9, severityText: 'INFO', body: 'user said "hello (world)" AND NOT bye* near:x' }),
  ]);
});
afterEach(closeStores);

const bodies = (query: Parameters<typeof searchLogs>[1]): string[] => searchLogs(store, query).map((l) => l.body);

describe('searchLogs filters', () => {
  it('returns everything newest first, up to the limit', () => {
    expect(searchLogs(store, { limit: 100 }).map((l) => l.timeUnixNano.slice(0, 13))).toEqual(
      [6, 5, 4, 3, 2, 1].map((s) => String(T0 + s * 1000)),
    );
    expect(bodies({ limit: 2 })).toEqual(['user said "hello (world)" AND NOT bye* near:x', 'out of memory; connection pool refused to grow']);
  });

  it('filters by service', () => {
    expect(bodies({ service: 'gateway', limit: 10 })).toEqual(['out of memory; connection pool refused to grow', 'GET /checkout 200 in 12ms']);
    expect(bodies({ service: 'nobody', limit: 10 })).toEqual([]);
  });

  it('filters by time: since inclusive, until exclusive', () => {
    expect(bodies({ since: T0 + 2_000, until: T0 + 4_000, limit: 10 })).toEqual(['Connection refused: postgres:5432', 'slow query on orders table']);
  });

  it('filters by minimum severity, by name in any case or by number', () => {
    expect(bodies({ level: 'ERROR', limit: 10 })).toEqual(['out of memory; connection pool refused to grow', 'Connection refused: postgres:5432']);
    expect(bodies({ level: 'warn', limit: 10 })).toHaveLength(3);
    expect(bodies({ level: 21, limit: 10 })).toEqual(['out of memory; connection pool refused to grow']);
    expect(() => searchLogs(store, { level: 'LOUD' as SeverityText, limit: 1 })).toThrow('level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, not "LOUD"');
  });

  it('filters by trace id, in any case', () => {
    expect(bodies({ traceId: TRACE.toUpperCase(), limit: 10 })).toEqual(['Connection refused: postgres:5432', 'slow query on orders table']);
    expect(bodies({ traceId: '', limit: 10 })).toEqual([]);
  });

  it('searches words in the body, case-insensitively, as a phrase', () => {
    expect(bodies({ text: 'REFUSED', limit: 10 })).toEqual(['out of memory; connection pool refused to grow', 'Connection refused: postgres:5432']);
    expect(bodies({ text: 'connection refused', limit: 10 })).toEqual(['Connection refused: postgres:5432']);
    expect(bodies({ text: 'refused connection', limit: 10 })).toEqual([]);
    expect(bodies({ text: 'sku-42', limit: 10 })).toEqual(['stock for sku-42 is 7']);
  });

  it('filters by project, the service.namespace of the resource', () => {
    store.insertLogs([
      log(7_000, { service: 'gateway', body: 'the shop gateway', resource: { 'service.name': 'gateway', 'service.namespace': 'shop' } }),
      log(8_000, { service: 'gateway', body: 'the blog gateway', resource: { 'service.name': 'gateway', 'service.namespace': 'blog' } }),
    ]);
    expect(bodies({ project: 'shop', service: 'gateway', limit: 10 })).toEqual(['the shop gateway']);
    expect(bodies({ project: 'blog', limit: 10 })).toEqual(['the blog gateway']);
    expect(bodies({ project: 'nobody', limit: 10 })).toEqual([]);
  });

  it('combines every filter', () => {
    expect(bodies({ service: 'orders', text: 'refused', level: 'ERROR', traceId: TRACE, since: T0, until: T0 + 10_000, limit: 10 })).toEqual([
      'Connection refused: postgres:5432',
    ]);
    expect(bodies({ service: 'gateway', text: 'postgres', limit: 10 })).toEqual([]);
  });

  it('refuses a limit out of range', () => {
    expect(() => searchLogs(store, { limit: 0 })).toThrow('limit must be a whole number from 1 to 10000, not 0');
    expect(() => searchLogs(store, { limit: 1.5 })).toThrow('limit must be');
  });
});

describe('searchLogs with FTS syntax in the user text', () => {
  it('quotes the text as one phrase, doubling its quotes', () => {
    expect(ftsPhrase('say "hi"')).toBe('"say ""hi"""');
    expect(ftsPhrase('a\0b')).toBe('"a b"');
  });

  it.each([
    ['"hello (world)"', 1],
    ['hello (world', 1],
    ['said "hello', 1],
    ['AND NOT bye*', 1],
    ['NOT', 1],
    ['bye*', 1],
    ['near:x', 1],
    ['NEAR(hello world)', 0],
    ['NEAR(x', 1],
    ['body:refused', 0],
    ['refused OR memory', 0],
    ['^user', 1],
    ["user's", 0],
    ['"', 0],
    ['""', 0],
    ['(', 0],
    ['*', 0],
    [')) OR ((', 0],
    ['-', 0],
    ['a\0b', 0],
    ['🙂 emoji', 0],
  ])('%j finds %i record(s) as literal words, without error', (text, expected) => {
    expect(searchLogs(store, { text, limit: 10 })).toHaveLength(expected);
  });

  it('gives the newest matches of a common word, in time order rather than arrival order', () => {
    const many = tempStore();
    const timeOf = (i: number): number => ((i * 17) % 50) * 10; // arrival order differs from time order
    many.insertLogs(Array.from({ length: 50 }, (_, i) => log(timeOf(i), { body: i % 5 === 0 ? `rare ${i}` : `common word ${i}` })));
    const newestFirst = Array.from({ length: 50 }, (_, i) => i)
      .filter((i) => i % 5 !== 0) // 40 of 50 hold the word
      .sort((a, b) => timeOf(b) - timeOf(a));
    const texts = (query: Parameters<typeof searchLogs>[1]): string[] => searchLogs(many, query).map((l) => l.body);
    const bodies = (indexes: number[]): string[] => indexes.map((i) => `common word ${i}`);
    expect(texts({ text: 'common', limit: 5 })).toEqual(bodies(newestFirst.slice(0, 5)));
    expect(texts({ text: 'common', limit: 100 })).toEqual(bodies(newestFirst));
    const inWindow = newestFirst.filter((i) => timeOf(i) >= 100 && timeOf(i) < 200);
    expect(texts({ text: 'common', since: T0 + 100, until: T0 + 200, limit: 3 })).toEqual(bodies(inWindow.slice(0, 3)));
  });

  it('ignores a blank text', () => {
    expect(searchLogs(store, { text: '   ', limit: 10 })).toHaveLength(6);
  });
});
