/**
 * A synthetic shop: gateway → orders → inventory, orders → postgresql, as spans.
 * Main window [T0, T0 + 35 s): 20 checkout traces (trace i at i seconds) and 5 health checks.
 * Trace 20 fails all the way up from inventory; trace 19 has a failed database call only.
 * From 40 s, 2 order lookups: gateway → orders → orders-cache (redis) and → inventory.
 */
import type { SpanRecord } from '../../../../src/telemetry/types.js';
import { span } from '../store/fixtures.js';

/** The trace id of checkout `i` (1–20), lookup `100 + k`, health check `200 + k`. */
export const traceId = (i: number): string => i.toString(16).padStart(32, '0');

/** The main window's bounds, in milliseconds after T0. */
export const MAIN_WINDOW_MS = 35_000;

/** Every span of the shop. */
export function shopSpans(): SpanRecord[] {
  const spans: SpanRecord[] = [];
  for (let i = 1; i <= 20; i++) {
    const t = traceId(i);
    const s = i * 1000;
    const failed = i === 20 ? ({ status: 'ERROR' } as const) : {};
    spans.push(
      span({ traceId: t, spanId: `g1-${i}`, service: 'gateway', kind: 'SERVER', name: 'GET /checkout', startMs: s, durationMs: 100 + 10 * i, ...failed }),
      span({ traceId: t, spanId: `g2-${i}`, parentSpanId: `g1-${i}`, service: 'gateway', kind: 'CLIENT', name: 'POST /orders', startMs: s + 1, durationMs: 10 * i, ...failed }),
      span({ traceId: t, spanId: `o1-${i}`, parentSpanId: `g2-${i}`, service: 'orders', kind: 'SERVER', name: 'POST /orders', startMs: s + 2, durationMs: 10 * i - 2, ...failed }),
      span({ traceId: t, spanId: `o2-${i}`, parentSpanId: `o1-${i}`, service: 'orders', kind: 'CLIENT', name: 'GET /stock', startMs: s + 3, durationMs: 2 * i, ...failed }),
      span({ traceId: t, spanId: `i1-${i}`, parentSpanId: `o2-${i}`, service: 'inventory', kind: 'SERVER', name: 'GET /stock', startMs: s + 3, durationMs: i, ...failed }),
      span({
        traceId: t,
        spanId: `o3-${i}`,
        parentSpanId: `o1-${i}`,
        service: 'orders',
        kind: 'CLIENT',
        name: 'INSERT orders',
        startMs: s + 4,
        durationMs: 3 * i,
        attributes: { 'db.system': 'postgresql', 'server.address': 'db' },
        ...(i === 19 ? { status: 'ERROR' as const } : {}),
      }),
    );
  }
  for (let k = 0; k < 5; k++) {
    spans.push(span({ traceId: traceId(200 + k), spanId: `h-${k}`, service: 'gateway', kind: 'SERVER', name: 'GET /health', startMs: 30_000 + k, durationMs: 1 }));
  }
  for (let k = 0; k < 2; k++) {
    const t = traceId(100 + k);
    const s = 40_000 + k * 1000;
    spans.push(
      span({ traceId: t, spanId: `r-${k}`, service: 'gateway', kind: 'SERVER', name: 'GET /orders/:id', startMs: s, durationMs: 50 }),
      span({ traceId: t, spanId: `c-${k}`, parentSpanId: `r-${k}`, service: 'gateway', kind: 'CLIENT', name: 'GET /orders/:id', startMs: s + 1, durationMs: 40 }),
      span({ traceId: t, spanId: `s-${k}`, parentSpanId: `c-${k}`, service: 'orders', kind: 'SERVER', name: 'GET /orders/:id', startMs: s + 2, durationMs: 30 }),
      // peer.service names the peer, ahead of db.system.
      span({ traceId: t, spanId: `k-${k}`, parentSpanId: `s-${k}`, service: 'orders', kind: 'CLIENT', name: 'GET', startMs: s + 3, durationMs: 5, attributes: { 'peer.service': 'orders-cache', 'db.system': 'redis' } }),
      // A peer attribute, but an instrumented service answered: a service edge only.
      span({ traceId: t, spanId: `q-${k}`, parentSpanId: `s-${k}`, service: 'orders', kind: 'CLIENT', name: 'GET /stock', startMs: s + 9, durationMs: 7, attributes: { 'server.address': 'inventory' } }),
      span({ traceId: t, spanId: `w-${k}`, parentSpanId: `q-${k}`, service: 'inventory', kind: 'SERVER', name: 'GET /stock', startMs: s + 10, durationMs: 6 }),
    );
  }
  return spans;
}
