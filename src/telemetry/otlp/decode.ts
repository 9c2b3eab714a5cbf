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
  return decode(body, contentType, contentEncoding, limits, { json: parseLogsJson, protobuf: parseLogsProtobuf, flatten: flattenLogs });
}

/**
 * Decodes an OTLP/HTTP traces request (POST /v1/traces). Returns every acceptable span and the
 * count of rejected ones, or throws OtlpDecodeError (400/413/415) and yields nothing.
 */
export function decodeTracesRequest(
  body: Buffer, contentType: string, contentEncoding?: string, limits?: Partial<DecodeLimits>,
): Decoded<SpanRecord> {
  return decode(body, contentType, contentEncoding, limits, { json: parseTracesJson, protobuf: parseTracesProtobuf, flatten: flattenSpans });
}

/** One signal's parsers (JSON and protobuf yield the same groups) and its flattening into records. */
interface Signal<G, R> {
  json: (bytes: Buffer, budget: RecordBudget, maxDepth: number) => G;
  protobuf: (bytes: Buffer, budget: RecordBudget, maxDepth: number) => G;
  flatten: (groups: G, limits: DecodeLimits) => Decoded<R>;
}

/** The pipeline every signal shares: limits, content type, encoding, a record budget, parse, flatten. */
function decode<G, R>(body: Buffer, contentType: string, contentEncoding: string | undefined, limits: Partial<DecodeLimits> | undefined, signal: Signal<G, R>): Decoded<R> {
  const resolved = resolveLimits(limits);
  const parse = formatOf(contentType) === 'json' ? signal.json : signal.protobuf;
  const groups = parse(decodedBody(body, contentEncoding, resolved), recordBudget(resolved.maxRecords), resolved.maxNestingDepth);
  return signal.flatten(groups, resolved);
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
