import { describe, expect, it } from 'vitest';
import { AGENT_SCOPE, encodeLogRecord, encodeLogsRequest, encodeResource } from '../../../src/agent/otlp-encode.js';
import { decodeLogsRequest } from '../../../src/telemetry/otlp/index.js';

const PROTOBUF = 'application/x-protobuf';

describe('encodeLogsRequest', () => {
  it('round-trips through the collector’s decoder: resource, scope, times, severity, body, attributes, ids', () => {
    const resource = encodeResource({ 'service.name': 'orders', 'container.image.repo_digests': ['shop/orders@sha256:abc', 'x@sha256:def'], replicas: 2 });
    const record = encodeLogRecord({
      timeUnixNano: 1_700_000_000_123_456_789n,
      observedTimeUnixNano: 1_700_000_000_999_999_999n,
      severityNumber: 17,
      severityText: 'ERROR',
      body: 'payment refused — über',
      attributes: { 'log.iostream': 'stderr', attempt: 3, ratio: 0.25, retried: true, negative: -5 },
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    });
    const decoded = decodeLogsRequest(encodeLogsRequest([{ resource, records: [record] }]), PROTOBUF);
    expect(decoded.rejected).toBe(0);
    expect(decoded.records).toEqual([
      {
        timeUnixNano: '1700000000123456789',
        observedTimeUnixNano: '1700000000999999999',
        severityNumber: 17,
        severityText: 'ERROR',
        body: 'payment refused — über',
        service: 'orders',
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        attributes: { 'log.iostream': 'stderr', attempt: 3, ratio: 0.25, retried: true, negative: -5 },
        resource: { 'service.name': 'orders', 'container.image.repo_digests': '["shop/orders@sha256:abc","x@sha256:def"]', replicas: 2 },
        scope: { ...AGENT_SCOPE },
      },
    ]);
  });

  it('keeps records under their own resources, in order, and leaves severity and ids out when unknown', () => {
    const plain = (body: string) =>
      encodeLogRecord({ timeUnixNano: 1n, observedTimeUnixNano: 2n, severityNumber: 0, severityText: '', body, attributes: {} });
    const request = encodeLogsRequest([
      { resource: encodeResource({ 'service.name': 'a' }), records: [plain('a1'), plain('a2')] },
      { resource: encodeResource({ 'service.name': 'b' }), records: [plain('')] },
    ]);
    const { records } = decodeLogsRequest(request, PROTOBUF);
    expect(records.map((r) => [r.service, r.body, r.severityNumber, r.severityText, r.traceId])).toEqual([
      ['a', 'a1', 0, '', ''],
      ['a', 'a2', 0, '', ''],
      ['b', '', 0, '', ''],
    ]);
  });

  it('encodes long bodies (multi-byte lengths) exactly', () => {
    const body = 'x'.repeat(70_000);
    const record = encodeLogRecord({ timeUnixNano: 5n, observedTimeUnixNano: 5n, severityNumber: 9, severityText: 'INFO', body, attributes: {} });
    const { records } = decodeLogsRequest(encodeLogsRequest([{ resource: encodeResource({}), records: [record] }]), PROTOBUF);
    expect(records[0]?.body).toBe(body);
  });
});
