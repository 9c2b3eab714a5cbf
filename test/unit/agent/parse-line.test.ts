import { describe, expect, it } from 'vitest';
import { MAX_ATTRIBUTE_LENGTH, parseLogLine } from '../../../src/agent/parse-line.js';

describe('parseLogLine', () => {
  it('reads a pino line: numeric level, msg, ms time, trace context; the rest become attributes', () => {
    const line = JSON.stringify({
      level: 50, time: 1_700_000_000_123, pid: 7, hostname: 'h', msg: 'refused', trace_id: '0AF7651916CD43DD8448EB211C80319C', span_id: 'b7ad6b7169203331',
      req: { method: 'GET', url: '/x' }, ok: false, tags: ['a', 'b'],
    });
    expect(parseLogLine(line)).toEqual({
      severity: { number: 17, text: 'ERROR' },
      body: 'refused',
      timeNs: 1_700_000_000_123_000_000n,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      attributes: { pid: 7, hostname: 'h', req: '{"method":"GET","url":"/x"}', ok: false, tags: '["a","b"]' },
    });
  });

  it.each([
    [10, 1, 'TRACE'], [20, 5, 'DEBUG'], [30, 9, 'INFO'], [40, 13, 'WARN'], [50, 17, 'ERROR'], [60, 21, 'FATAL'],
    ['warning', 13, 'WARN'], ['Info', 9, 'INFO'], ['CRITICAL', 21, 'FATAL'], ['err', 17, 'ERROR'], ['debug', 5, 'DEBUG'],
  ])('maps level %s to severity %i %s', (level, number, text) => {
    expect(parseLogLine(JSON.stringify({ level, msg: 'm' })).severity).toEqual({ number, text });
  });

  it('reads a bunyan-ish line: ISO time with nanoseconds, message key, severity key', () => {
    const parsed = parseLogLine('{"name":"api","severity":"warn","message":"slow","timestamp":"2026-11-26T10:00:00.123456789Z","v":0}');
    expect(parsed).toEqual({
      severity: { number: 13, text: 'WARN' },
      body: 'slow',
      timeNs: BigInt(Date.parse('2026-11-26T10:00:00Z')) * 1_000_000n + 123_456_789n,
      attributes: { name: 'api', v: 0 },
    });
  });

  it('takes lvl and traceId/spanId spellings, and keeps a lone trace id as an attribute', () => {
    expect(parseLogLine('{"lvl":"error","msg":"x","traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"}')).toMatchObject({
      severity: { number: 17 }, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', attributes: {},
    });
    const lone = parseLogLine('{"msg":"x","trace_id":"0af7651916cd43dd8448eb211c80319c"}');
    expect(lone.traceId).toBeUndefined();
    expect(lone.attributes).toEqual({ trace_id: '0af7651916cd43dd8448eb211c80319c' });
  });

  it('keeps unknown levels, bad times and non-hex ids as attributes, and the line as body when there is no message', () => {
    const line = '{"level":"chatty","time":"yesterday","trace_id":"xyz","span_id":"nothex"}';
    expect(parseLogLine(line)).toEqual({
      severity: { number: 0, text: '' },
      body: line,
      attributes: { level: 'chatty', time: 'yesterday', trace_id: 'xyz', span_id: 'nothex' },
    });
  });

  it.each(['plain text line', '  [1,2,3]', '{not json}', '42', ''])('takes %j as a plain body with no severity', (text) => {
    expect(parseLogLine(text)).toEqual({ severity: { number: 0, text: '' }, body: text, attributes: {} });
  });

  it('cuts over-long attribute values to what the collector keeps', () => {
    const parsed = parseLogLine(JSON.stringify({ msg: 'm', blob: 'y'.repeat(40_000) }));
    expect(String(parsed.attributes['blob']).length).toBe(MAX_ATTRIBUTE_LENGTH);
  });
});
