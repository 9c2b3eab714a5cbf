import type { Decoded, LogRecord, MetricPointRecord, SpanRecord } from '../types.js';
import { decodedBody, formatOf } from './body.js';
import { OtlpDecodeError } from './errors.js';
import { flattenLogs, flattenSpans } from './flatten.js';
import { flattenMetrics } from './flatten-metrics.js';
import { parseLogsJson, parseTracesJson } from './json.js';
import { parseMetricsJson } from './json-metrics.js';
import { resolveLimits, type DecodeLimits } from './limits.js';
import type { RecordBudget } from './model.js';
import { parseLogsProtobuf, parseTracesProtobuf } from './protobuf.js';
import { parseMetricsProtobuf } from './protobuf-metrics.js';

/**
 * Decodes an OTLP/HTTP logs request (POST /v1/logs). Returns every acceptable record and the
 * count of rejected ones, or throws OtlpDecodeError (400/413/415) and yields nothing.
 */
export function decodeLogsRequest(
  body: Buffer, contentType: string, contentEncoding?: string, limits?: Partial<DecodeLimits>,
): Decoded<LogRecord> {
  return decode(body, contentType, contentEncoding, limits, {
    json: (bytes, budget, l) => parseLogsJson(bytes, budget, l.maxNestingDepth),
    protobuf: (bytes, budget, l) => parseLogsProtobuf(bytes, budget, l.maxNestingDepth),
    flatten: flattenLogs,
  });
}

/**
 * Decodes an OTLP/HTTP traces request (POST /v1/traces). Returns every acceptable span and the
 * count of rejected ones, or throws OtlpDecodeError (400/413/415) and yields nothing.
 */
export function decodeTracesRequest(
  body: Buffer, contentType: string, contentEncoding?: string, limits?: Partial<DecodeLimits>,
): Decoded<SpanRecord> {
  return decode(body, contentType, contentEncoding, limits, {
    json: (bytes, budget, l) => parseTracesJson(bytes, budget, l.maxNestingDepth),
    protobuf: (bytes, budget, l) => parseTracesProtobuf(bytes, budget, l.maxNestingDepth),
    flatten: flattenSpans,
  });
}

/**
 * Decodes an OTLP/HTTP metrics request (POST /v1/metrics) into one record per data point.
 * Returns every acceptable point and the count of rejected ones (OTLP `rejected_data_points`),
 * or throws OtlpDecodeError (400/413/415) and yields nothing. maxRecords counts data points.
 */
export function decodeMetricsRequest(
  body: Buffer, contentType: string, contentEncoding?: string, limits?: Partial<DecodeLimits>,
): Decoded<MetricPointRecord> {
  return decode(body, contentType, contentEncoding, limits, { json: parseMetricsJson, protobuf: parseMetricsProtobuf, flatten: flattenMetrics });
}

/** One signal's parsers (JSON and protobuf yield the same groups) and its flattening into records. */
interface Signal<G, R> {
  json: (bytes: Buffer, budget: RecordBudget, limits: DecodeLimits) => G;
  protobuf: (bytes: Buffer, budget: RecordBudget, limits: DecodeLimits) => G;
  flatten: (groups: G, limits: DecodeLimits) => Decoded<R>;
}

/** The pipeline every signal shares: limits, content type, encoding, a record budget, parse, flatten. */
function decode<G, R>(body: Buffer, contentType: string, contentEncoding: string | undefined, limits: Partial<DecodeLimits> | undefined, signal: Signal<G, R>): Decoded<R> {
  const resolved = resolveLimits(limits);
  const parse = formatOf(contentType) === 'json' ? signal.json : signal.protobuf;
  const groups = parse(decodedBody(body, contentEncoding, resolved), recordBudget(resolved.maxRecords), resolved);
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
