/**
 * The collector's answer to an accepted export: ExportLogsServiceResponse, whose only field is
 * partial_success { rejected_log_records, error_message }. Protobuf or JSON, as the response's
 * Content-Type says. An answer that cannot be read counts as full success: the collector said
 * 2xx, and re-sending would duplicate everything it stored.
 */

/** What a 2xx answer reports. */
export interface PartialSuccess {
  rejected: number;
  errorMessage: string;
}

const NONE: PartialSuccess = { rejected: 0, errorMessage: '' };

/** Reads partial_success from a 2xx response body; no body or an unreadable one is full success. */
export function partialSuccessOf(body: Buffer, contentType: string): PartialSuccess {
  if (body.length === 0) return NONE;
  try {
    return /json/i.test(contentType) ? fromJson(body) : fromProtobuf(body);
  } catch {
    return NONE;
  }
}

function fromJson(body: Buffer): PartialSuccess {
  const parsed = JSON.parse(body.toString('utf8')) as { partialSuccess?: { rejectedLogRecords?: unknown; errorMessage?: unknown } };
  const partial = parsed.partialSuccess;
  // proto3 JSON writes int64 as a string.
  const rejected = Number(partial?.rejectedLogRecords ?? 0);
  return {
    rejected: Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0,
    errorMessage: typeof partial?.errorMessage === 'string' ? partial.errorMessage : '',
  };
}

function fromProtobuf(body: Buffer): PartialSuccess {
  const result = { ...NONE };
  for (const field of fields(body)) {
    if (field.number !== 1 || !Buffer.isBuffer(field.value)) continue;
    for (const inner of fields(field.value)) {
      if (inner.number === 1 && typeof inner.value === 'bigint') result.rejected = Number(BigInt.asIntN(64, inner.value));
      if (inner.number === 2 && Buffer.isBuffer(inner.value)) result.errorMessage = inner.value.toString('utf8');
    }
  }
  result.rejected = Math.max(0, result.rejected);
  return result;
}

/** The fields of one message: varints as bigint, length-delimited as bytes; fixed widths skipped. */
function* fields(bytes: Buffer): Generator<{ number: number; value: bigint | Buffer | undefined }> {
  let at = 0;
  const readVarint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) throw new RangeError('truncated varint');
      const byte = bytes[at++] as number;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new RangeError('varint too long');
  };
  while (at < bytes.length) {
    const key = Number(readVarint());
    const number = Math.floor(key / 8);
    switch (key % 8) {
      case 0: yield { number, value: readVarint() }; break;
      case 1: at += 8; yield { number, value: undefined }; break;
      case 5: at += 4; yield { number, value: undefined }; break;
      case 2: {
        const length = Number(readVarint());
        if (at + length > bytes.length) throw new RangeError('truncated field');
        yield { number, value: bytes.subarray(at, at + length) };
        at += length;
        break;
      }
      default: throw new RangeError(`unknown wire type ${key % 8}`);
    }
  }
}
