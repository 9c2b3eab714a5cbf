/**
 * OTLP/HTTP's answers, both ways: the collector writes them, the agent reads them. A success is an
 * Export{Logs,Trace,Metrics}ServiceResponse whose only field is partial_success (field 1:
 * { int64 rejected_<records> = 1; string error_message = 2; }); a failure is a google.rpc.Status
 * ({ int32 code = 1; string message = 2; }). Protobuf or JSON, as the request was. Written with the
 * shared ProtoWriter; read with the decoder's bounds-checked reader.
 */
import { ProtobufReader, Wire } from './protobuf-reader.js';
import { ProtoWriter } from './protobuf-writer.js';

/** The signals OTLP/HTTP carries. */
export type OtlpSignal = 'logs' | 'traces' | 'metrics';

/** What a 2xx answer reports. */
export interface PartialSuccess {
  rejected: number;
  errorMessage: string;
}

/** A response body and its Content-Type. */
export interface OtlpAnswer {
  contentType: string;
  body: Buffer | string;
}

/** The JSON name of partial_success's counter, per signal. */
const REJECTED_JSON_FIELD: Record<OtlpSignal, string> = {
  logs: 'rejectedLogRecords',
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
};

/** gRPC status codes for google.rpc.Status, by the HTTP status the OTLP spec pairs them with. */
const RPC_CODE: Record<number, number> = { 400: 3, 413: 8, 415: 3, 429: 8, 503: 14 };

const NONE: PartialSuccess = { rejected: 0, errorMessage: '' };

/** The success answer: empty when nothing was rejected, else partial_success with the count and reason. */
export function encodeExportResponse(signal: OtlpSignal, json: boolean, { rejected, errorMessage }: PartialSuccess): OtlpAnswer {
  if (json) {
    const body = rejected > 0 || errorMessage !== '' ? { partialSuccess: { [REJECTED_JSON_FIELD[signal]]: String(rejected), errorMessage } } : {};
    return { contentType: 'application/json', body: JSON.stringify(body) };
  }
  if (rejected === 0 && errorMessage === '') return { contentType: 'application/x-protobuf', body: Buffer.alloc(0) };
  const body = new ProtoWriter(64).begin(1).varint(1, rejected).string(2, errorMessage).end().finish();
  return { contentType: 'application/x-protobuf', body };
}

/** The failure answer for an HTTP status. */
export function encodeStatusResponse(httpStatus: number, json: boolean, message: string): OtlpAnswer {
  const code = RPC_CODE[httpStatus] ?? 2;
  if (json) return { contentType: 'application/json', body: JSON.stringify({ code, message }) };
  return { contentType: 'application/x-protobuf', body: new ProtoWriter(64).varint(1, code).string(2, message).finish() };
}

/**
 * Reads partial_success from a 2xx answer. No body, or one that cannot be read, is full success:
 * the receiver said 2xx, and sending again would duplicate everything it stored.
 */
export function decodeExportResponse(signal: OtlpSignal, body: Buffer, contentType: string): PartialSuccess {
  if (body.length === 0) return NONE;
  try {
    return /json/i.test(contentType) ? fromJson(signal, body) : fromProtobuf(body);
  } catch {
    return NONE;
  }
}

function fromJson(signal: OtlpSignal, body: Buffer): PartialSuccess {
  const parsed = JSON.parse(body.toString('utf8')) as { partialSuccess?: Record<string, unknown> };
  const partial = parsed.partialSuccess;
  // proto3 JSON writes int64 as a string.
  const rejected = Number(partial?.[REJECTED_JSON_FIELD[signal]] ?? 0);
  return {
    rejected: Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0,
    errorMessage: typeof partial?.['errorMessage'] === 'string' ? partial['errorMessage'] : '',
  };
}

function fromProtobuf(body: Buffer): PartialSuccess {
  const result = { ...NONE };
  const response = new ProtobufReader(body);
  while (!response.atEnd()) {
    const { field, wire } = response.tag();
    if (field !== 1 || wire !== Wire.len) {
      response.skip(wire);
      continue;
    }
    const partial = response.message();
    while (!partial.atEnd()) {
      const inner = partial.tag();
      if (inner.field === 1 && inner.wire === Wire.varint) result.rejected = Math.max(0, Number(BigInt.asIntN(64, partial.varint64())));
      else if (inner.field === 2 && inner.wire === Wire.len) result.errorMessage = partial.string('partial_success.error_message');
      else partial.skip(inner.wire);
    }
  }
  return result;
}
