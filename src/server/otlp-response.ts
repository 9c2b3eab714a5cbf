/**
 * OTLP/HTTP answers, in the encoding of the request: an Export*ServiceResponse (with
 * partial_success when records were rejected) on success, a google.rpc.Status on failure.
 * Both messages are two fields deep, so they are written by hand rather than through a codec.
 */

/** The signals a collector receives, each with its partial_success counter's JSON name. */
export type Signal = 'logs' | 'traces' | 'metrics';

const REJECTED_JSON_FIELD: Record<Signal, string> = {
  logs: 'rejectedLogRecords',
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
};

/** gRPC status codes used in google.rpc.Status, by the HTTP status they go with (as the OTLP spec pairs them). */
const RPC_CODE: Record<number, number> = { 400: 3, 413: 8, 415: 3, 429: 8, 503: 14 };

/** A response body and its Content-Type. */
export interface OtlpBody {
  contentType: string;
  body: Buffer | string;
}

/** The success answer: empty when nothing was rejected, else partial_success with the count and reason. */
export function exportResponse(signal: Signal, json: boolean, rejected: number, errorMessage: string): OtlpBody {
  if (json) {
    const body = rejected > 0 || errorMessage !== ''
      ? { partialSuccess: { [REJECTED_JSON_FIELD[signal]]: String(rejected), errorMessage } }
      : {};
    return { contentType: 'application/json', body: JSON.stringify(body) };
  }
  if (rejected === 0 && errorMessage === '') return { contentType: 'application/x-protobuf', body: Buffer.alloc(0) };
  // ExportPartialSuccess { int64 rejected_* = 1; string error_message = 2; } inside field 1 of the response.
  const partial = Buffer.concat([varintField(1, rejected), stringField(2, errorMessage)]);
  return { contentType: 'application/x-protobuf', body: lengthDelimited(1, partial) };
}

/** The failure answer: google.rpc.Status { int32 code = 1; string message = 2; }. */
export function statusResponse(httpStatus: number, json: boolean, message: string): OtlpBody {
  const code = RPC_CODE[httpStatus] ?? 2;
  if (json) return { contentType: 'application/json', body: JSON.stringify({ code, message }) };
  return { contentType: 'application/x-protobuf', body: Buffer.concat([varintField(1, code), stringField(2, message)]) };
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = BigInt(value);
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Buffer.from(bytes);
}

function varintField(field: number, value: number): Buffer {
  return value === 0 ? Buffer.alloc(0) : Buffer.concat([varint(field << 3), varint(value)]);
}

function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

function stringField(field: number, text: string): Buffer {
  return text === '' ? Buffer.alloc(0) : lengthDelimited(field, Buffer.from(text, 'utf8'));
}
