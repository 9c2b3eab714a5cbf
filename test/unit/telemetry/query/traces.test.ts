import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findTraces, traceSpans } from '../../../../src/telemetry/query/index.js';
import type { TelemetryStore } from '../../../../src/telemetry/store/index.js';
import { closeStores, ns, span, T0, tempStore } from '../store/fixtures.js';
import { MAIN_WINDOW_MS, shopSpans, traceId } from './shop.js';

let store: TelemetryStore;
beforeEach(() => {
  store = tempStore();
  store.insertSpans(shopSpans());
});
afterEach(closeStores);

const ids = (found: ReturnType<typeof findTraces>): string[] => found.map((t) => t.traceId);

describe('findTraces', () => {
  it('summarises the traces through a service, most recent first', () => {
    expect(findTraces(store, { service: 'inventory', since: T0, until: T0 + MAIN_WINDOW_MS, limit: 2 })).toEqual([
      {
        traceId: traceId(20),
        root: { service: 'gateway', operation: 'GET /checkout' },
        startTimeUnixNano: ns(20_000),
        durationMs: 300,
        spans: 6,
        errors: 5,
        services: ['gateway', 'inventory', 'orders'],
      },
      {
        traceId: traceId(19),
        root: { service: 'gateway', operation: 'GET /checkout' },
        startTimeUnixNano: ns(19_000),
        durationMs: 290,
        spans: 6,
        errors: 1,
        services: ['gateway', 'inventory', 'orders'],
      },
    ]);
  });

  it('filters by operation, minimum duration and errors on one span', () => {
    expect(ids(findTraces(store, { service: 'gateway', operation: 'POST /orders', minDurationMs: 190, limit: 10 }))).toEqual([traceId(20), traceId(19)]);
    expect(ids(findTraces(store, { operation: 'POST /orders', minDurationMs: 195, limit: 10 }))).toEqual([traceId(20)]);
    expect(ids(findTraces(store, { error: true, limit: 10 }))).toEqual([traceId(20), traceId(19)]);
    expect(ids(findTraces(store, { service: 'inventory', error: true, limit: 10 }))).toEqual([traceId(20)]);
    expect(findTraces(store, { service: 'inventory', error: false, since: T0, until: T0 + MAIN_WINDOW_MS, limit: 100 })).toHaveLength(18);
    expect(ids(findTraces(store, { operation: 'GET /health', limit: 2 }))).toEqual([traceId(204), traceId(203)]);
  });

  it('gives a null root while the root span is missing', () => {
    store.insertSpans([span({ traceId: 'orphan', spanId: 'x', parentSpanId: 'gone', service: 'orders', kind: 'SERVER', name: 'late', startMs: 90_000, durationMs: 3 })]);
    expect(findTraces(store, { operation: 'late', limit: 5 })).toEqual([
      { traceId: 'orphan', root: null, startTimeUnixNano: ns(90_000), durationMs: 3, spans: 1, errors: 0, services: ['orders'] },
    ]);
  });
});

describe('traceSpans', () => {
  it('returns every span of a trace by start time, parents first', () => {
    const spans = traceSpans(store, traceId(1).toUpperCase());
    expect(spans.map((s) => `${s.service} ${s.kind} ${s.name} <- ${s.parentSpanId || 'root'}`)).toEqual([
      'gateway SERVER GET /checkout <- root',
      'gateway CLIENT POST /orders <- g1-1',
      'orders SERVER POST /orders <- g2-1',
      'orders CLIENT GET /stock <- o1-1',
      'inventory SERVER GET /stock <- o2-1',
      'orders CLIENT INSERT orders <- o1-1',
    ]);
    expect(spans[5]?.attributes).toEqual({ 'db.system': 'postgresql', 'server.address': 'db' });
    expect(spans[0]?.endTimeUnixNano).toBe(ns(1_110));
    expect(traceSpans(store, 'nope')).toEqual([]);
  });
});
