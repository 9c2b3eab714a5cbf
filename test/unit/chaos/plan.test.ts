/** The plan of an experiment as stable text, and the pure checks probes rely on. */
import { describe, expect, it } from 'vitest';
import { planText } from '../../../src/chaos/index.js';
import { checkCollector, checkHttp, collectorFigure, jsonMismatch } from '../../../src/chaos/expectations.js';
import { decideVerdict } from '../../../src/chaos/verdict.js';
import type { CollectorProbeSpec } from '../../../src/spec/types.js';
import { experimentFrom } from './experiment.js';

describe('the plan', () => {
  it('lists checks, load, steps by start time, settle and rollbacks', async () => {
    const experiment = await experimentFrom(`
shop-survives:
  description: orders survive a flaky inventory
  settle: 2s
  hypothesis:
    - http: { url: http://127.0.0.1:8080/health }
    - collector: { query: error_rate, service: orders, below: 0.01 }
  load: { http: { url: http://127.0.0.1:8080/orders, method: post, body: { item: apples } }, rate: 20, duration: 30s }
  method:
    - container: { service: db, action: kill, signal: term, at: 20s }
    - fault: { service: api, toxic: { type: http_duplicate, stream: upstream, toxicity: 0.2, attributes: { path: /reserve } }, at: 5s }
    - fault: { service: api, toxic: { type: http_drop, stream: upstream, toxicity: 0.2, attributes: { mode: hang } }, at: 5s, duration: 10s }
    - network: { service: db, cut: true, at: 1m, requests: 50 }
  rollbacks:
    - container: { service: db, action: start }
`, ['api', 'db', 'orders']);
    expect(planText(experiment)).toBe(
      [
        'experiment shop-survives: orders survive a flaky inventory',
        '  check before  http GET http://127.0.0.1:8080/health',
        '  check before  error_rate of orders over 1m',
        '  load          POST http://127.0.0.1:8080/orders at 20/s for 30s (at most 600 requests, 8 at once)',
        '  at 5s         fault http_duplicate (path=/reserve) upstream of api on 20% of requests as chaos-shop-survives-2 until the end',
        '  at 5s         fault http_drop (mode=hang) upstream of api on 20% of requests as chaos-shop-survives-3 for 10s',
        '  at 20s        kill (SIGTERM) db',
        '  at 1m         cut db off its networks for 50 requests of the load',
        '  settle        2s',
        '  check after   http GET http://127.0.0.1:8080/health',
        '  check after   error_rate of orders over 1m',
        '  undo          every fault, pause and network cut still in place',
        '  rollback      start db',
        '',
      ].join('\n'),
    );
    expect(experiment.load?.request).toEqual({ url: 'http://127.0.0.1:8080/orders', method: 'POST', body: '{"item":"apples"}', headers: { 'content-type': 'application/json' }, timeout: '5s' });
  });
});

describe('expectations', () => {
  it('match JSON as a subset of objects, arrays and scalars exactly', () => {
    expect(jsonMismatch({ a: 1, b: { c: [1, 2], d: 'x' } }, { b: { c: [1, 2] } }, '$')).toBeUndefined();
    expect(jsonMismatch({ a: 1, b: { c: [1, 2, 3] } }, { b: { c: [1, 2] } }, '$')).toBe('$.b.c: expected [1,2], found [1,2,3]');
    expect(jsonMismatch({ a: 1 }, { b: null }, '$')).toBe('$.b: missing');
    expect(jsonMismatch([{ id: 1, n: 2 }], [{ id: 1 }], '$')).toBeUndefined();
  });

  it('take any status below 400 when none is given, and say why an answer does not do', () => {
    expect(checkHttp({}, { status: 302, body: '', ms: 1 }).ok).toBe(true);
    expect(checkHttp({}, { status: 404, body: 'no', ms: 1 })).toEqual({ ok: false, value: '404 no', expected: 'status < 400', detail: 'status 404' });
    expect(checkHttp({ status: [200], bodyContains: 'ok' }, { status: 200, body: 'fine', ms: 1 }).detail).toBe('the body does not contain "ok"');
    expect(checkHttp({}, { error: 'connect ECONNREFUSED 127.0.0.1:1', reason: 'refused', ms: 1 })).toEqual({ ok: false, value: null, expected: 'status < 400', detail: 'no answer: connect ECONNREFUSED 127.0.0.1:1' });
  });

  it('read collector figures, and refuse to call an empty window steady', () => {
    const map = { edges: [], red: { services: [{ service: 'api', calls: 10, errorRate: 0.2, p50Ms: 1, p95Ms: 2, p99Ms: 3, ratePerSecond: 0.5 }], operations: [] } };
    const probe = (fields: Partial<CollectorProbeSpec>): CollectorProbeSpec => ({ kind: 'collector', name: 'p', query: 'error_rate', service: 'api', window: '1m', ...fields });
    expect(checkCollector(probe({ below: 0.05 }), collectorFigure(probe({}), map, 60_000))).toEqual({ ok: false, value: 0.2, expected: 'error_rate < 0.05', detail: '0.2 is not below 0.05' });
    expect(checkCollector(probe({ query: 'rate', above: 0.1 }), collectorFigure(probe({ query: 'rate' }), map, 60_000)).ok).toBe(true);
    expect(collectorFigure(probe({ query: 'calls', service: 'web' }), map, 60_000)).toBe(0);
    expect(checkCollector(probe({ service: 'web', below: 1 }), collectorFigure(probe({ service: 'web' }), map, 60_000)).detail).toBe('no calls of web in the last 1m');
  });
});

describe('the verdict', () => {
  const probe = (ok: boolean) => ({ name: ok ? 'fine' : 'broken', kind: 'http' as const, phase: 'before' as const, ok, value: null, expected: '', at: '', durationMs: 0 });
  it('is aborted without a steady state, failed when it breaks, passed when it holds', () => {
    expect(decideVerdict({ before: [probe(false)], after: undefined, interrupted: false }).verdict).toBe('aborted');
    expect(decideVerdict({ before: [probe(true)], after: [probe(false)], interrupted: false })).toEqual({ verdict: 'failed', reason: 'the hypothesis held before the method but not after it (broken)' });
    expect(decideVerdict({ before: [probe(true)], after: [probe(true)], interrupted: false }).verdict).toBe('passed');
    expect(decideVerdict({ before: [probe(true)], after: [probe(true)], interrupted: true }).verdict).toBe('aborted');
    expect(decideVerdict({ before: [probe(true)], after: undefined, methodError: 'x', interrupted: false }).verdict).toBe('aborted');
  });
});
