import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dependencyMap, impact } from '../../../../src/telemetry/query/index.js';
import type { TelemetryStore } from '../../../../src/telemetry/store/index.js';
import { closeStores, T0, tempStore } from '../store/fixtures.js';
import { MAIN_WINDOW_MS, shopSpans } from './shop.js';

let store: TelemetryStore;
beforeEach(() => {
  store = tempStore();
  store.insertSpans(shopSpans());
});
afterEach(closeStores);

const MAIN = { since: T0, until: T0 + MAIN_WINDOW_MS };
const ALL = { since: T0, until: T0 + 60_000 };

describe('dependencyMap', () => {
  it('derives the shop: gateway → orders → inventory and orders → postgresql, with counts, error rates and nearest-rank percentiles', () => {
    expect(dependencyMap(store, MAIN)).toEqual([
      // Client durations 10, 20 … 200 ms: p50 is the 10th (100), p95 the 19th (190), p99 the 20th (200).
      { source: 'gateway', target: 'orders', via: 'service', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 100, p95Ms: 190, p99Ms: 200 },
      { source: 'orders', target: 'inventory', via: 'service', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 20, p95Ms: 38, p99Ms: 40 },
      { source: 'orders', target: 'postgresql', via: 'peer', calls: 20, errors: 1, errorRate: 0.05, p50Ms: 30, p95Ms: 57, p99Ms: 60 },
    ]);
  });

  it('names a peer by peer.service first, and makes no peer edge when a service answered', () => {
    expect(dependencyMap(store, { since: T0 + 40_000, until: T0 + 60_000 })).toEqual([
      { source: 'gateway', target: 'orders', via: 'service', calls: 2, errors: 0, errorRate: 0, p50Ms: 40, p95Ms: 40, p99Ms: 40 },
      { source: 'orders', target: 'inventory', via: 'service', calls: 2, errors: 0, errorRate: 0, p50Ms: 7, p95Ms: 7, p99Ms: 7 },
      { source: 'orders', target: 'orders-cache', via: 'peer', calls: 2, errors: 0, errorRate: 0, p50Ms: 5, p95Ms: 5, p99Ms: 5 },
    ]);
  });

  it('counts the calls that started in the window only', () => {
    const edges = dependencyMap(store, { since: T0 + 19_000, until: T0 + 20_000 });
    expect(edges.map((e) => [e.source, e.target, e.calls, e.errors, e.p99Ms])).toEqual([
      ['gateway', 'orders', 1, 0, 190],
      ['orders', 'inventory', 1, 0, 38],
      ['orders', 'postgresql', 1, 1, 57],
    ]);
    expect(dependencyMap(store, { since: T0 + 100_000, until: T0 + 200_000 })).toEqual([]);
  });
});

describe('impact', () => {
  it('finds the entry points whose traces reach a service, with the traces that failed', () => {
    expect(impact(store, 'inventory', MAIN)).toEqual([{ service: 'gateway', operation: 'GET /checkout', traces: 20, errored: 1, serviceErrored: 1 }]);
    expect(impact(store, 'inventory', ALL)).toEqual([
      { service: 'gateway', operation: 'GET /checkout', traces: 20, errored: 1, serviceErrored: 1 },
      { service: 'gateway', operation: 'GET /orders/:id', traces: 2, errored: 0, serviceErrored: 0 },
    ]);
  });

  it('counts a service that is itself the entry point, and nothing for an unknown one', () => {
    expect(impact(store, 'gateway', MAIN)).toEqual([
      { service: 'gateway', operation: 'GET /checkout', traces: 20, errored: 1, serviceErrored: 1 },
      { service: 'gateway', operation: 'GET /health', traces: 5, errored: 0, serviceErrored: 0 },
    ]);
    expect(impact(store, 'nobody', ALL)).toEqual([]);
  });
});
