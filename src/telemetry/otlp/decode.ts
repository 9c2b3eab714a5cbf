import type { Decoded, LogRecord, SpanRecord } from '../types.js';
import { decodedBody, formatOf } from './body.js';
import { OtlpDecodeError } from './errors.js';
import { flattenLogs, flattenSpans } from './flatten.js';
import { parseLogsJson, parseTracesJson } from './json.js';
import { resolveLimits, type DecodeLimits } from './limits.js';
import type { RecordBudget } from './model.js';
import { parseLogsProtobuf, parseTracesProtobuf } from './protobuf.js';

/**
 * Decodes an OTLP/HTTP logs request (POST /v1/logs). Returns every acceptable record and the
 * count of rejected ones, or throws OtlpDecodeError (400/413/415) and yields nothing.
 */
export function decodeLogsRequest(
  body: Buffer, contentType: string, contentEncoding?: string, limits?: Partial<DecodeLimits>,
): Decoded<LogRecord> {
  const resolved = resolveLimits(limits);
  const format = formatOf(contentType);
  const bytes = decodedBody(body, contentEncoding, resolved);
  const budget = recordBudget(resolved.maxRecords);
  const groups = format === 'json'
    ? parseLogsJson(bytes, budget, resolved.maxNestingDepth)
    : parseLogsProtobuf(bytes, budget, resolved.maxNestingDepth);
  return flattenLogs(groups, resolved);
}

/**
 * Decodes an OTLP/HTTP traces request (POST /v1/traces). Returns every acceptable span and the
 * count of rejected ones, or throws OtlpDecodeError (400/413/415) and yields nothing.
 */
export function decodeTracesRequest(
  body: Buffer, contentType: string, contentEncoding?: string, limits?: Partial<DecodeLimits>,
): Decoded<SpanRecord> {
  const resolved = resolveLimits(limits);
  const format = formatOf(contentType);
  const bytes = decodedBody(body, contentEncoding, resolved);
  const budget = recordBudget(resolved.maxRecords);
  const groups = format === 'json'
    ? parseTracesJson(bytes, budget, resolved.maxNestingDepth)
    : parseTracesProtobuf(bytes, budget, resolved.maxNestingDepth);
  return flattenSpans(groups, resolved);
}

function recordBudget(max: number): RecordBudget {
  let taken = 0;
  return {
    take() {
      taken += 1;
      if (taken > max) throw new OtlpDecodeError(413, `request holds more than ${max} records; send smaller batches`);
    },
  };
}
