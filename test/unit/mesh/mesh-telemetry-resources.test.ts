/** Span resources are cached per telemetry instance, not in module state shared by every proxy of the process. */
import { expect, test } from 'vitest';
import { createResourceCache, requestSpans, type RequestRecord } from '../../../src/mesh/http/telemetry/recorder.js';

const record: RequestRecord = {
  caller: 'web', callerAddress: '10.0.0.2', method: 'GET', route: '/x', status: 200, attempts: 1,
  startTimeUnixNano: 1n, durationNs: 1n, traceId: '0'.repeat(31) + '1', parentSpanId: '', clientSpanId: '0'.repeat(15) + '1', serverSpanId: '0'.repeat(15) + '2',
};

test('one cache shares resources between requests; two caches share nothing', () => {
  const first = createResourceCache();
  const second = createResourceCache();
  const [clientA, serverA] = requestSpans('api', '1.0.0', record, first);
  const [clientB, serverB] = requestSpans('api', '1.0.0', record, first);
  const [clientC, serverC] = requestSpans('api', '1.0.0', record, second);
  expect(clientA.resource).toBe(clientB.resource);
  expect(serverA.resource).toBe(serverB.resource);
  expect(clientC.resource).not.toBe(clientA.resource);
  expect(serverC.resource).not.toBe(serverA.resource);
  expect(serverC.resource).toEqual({ 'service.name': 'api', 'service.version': '1.0.0', 'telemetry.sdk.name': 'flotilla-mesh' });
});
