import { gunzipSync } from 'node:zlib';
import { OtlpDecodeError, malformed } from './errors.js';
import type { DecodeLimits } from './limits.js';

/** The two encodings OTLP/HTTP defines. */
export type OtlpFormat = 'protobuf' | 'json';

/** Picks the format from a Content-Type header; parameters (`; charset=utf-8`) are ignored. */
export function formatOf(contentType: string): OtlpFormat {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (mediaType === 'application/x-protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  throw new OtlpDecodeError(
    415,
    `unsupported Content-Type "${contentType}": OTLP/HTTP accepts application/x-protobuf or application/json`,
  );
}

/** Returns the request body as sent before any Content-Encoding, within the size limits. */
export function decodedBody(body: Buffer, contentEncoding: string | undefined, limits: DecodeLimits): Buffer {
  if (body.length > limits.maxBodyBytes) {
    throw new OtlpDecodeError(413, `request body is ${body.length} bytes, over the limit of ${limits.maxBodyBytes}`);
  }
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') {
    if (body.length > limits.maxDecompressedBytes) {
      throw new OtlpDecodeError(413, `request body is over the limit of ${limits.maxDecompressedBytes} bytes`);
    }
    return body;
  }
  if (encoding !== 'gzip') {
    throw new OtlpDecodeError(415, `unsupported Content-Encoding "${contentEncoding}": OTLP/HTTP accepts gzip`);
  }
  try {
    // maxOutputLength makes zlib stop inflating as soon as the output passes the cap, so a
    // gzip bomb costs at most the cap in memory and time, never its full expansion.
    return gunzipSync(body, { maxOutputLength: limits.maxDecompressedBytes });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new OtlpDecodeError(
        413,
        `gzip body inflates past the limit of ${limits.maxDecompressedBytes} bytes`,
        { cause: error },
      );
    }
    throw malformed('request body is not valid gzip', error);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 text, refusing invalid sequences instead of replacing them with U+FFFD. */
export function utf8(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw malformed(`${what} is not valid UTF-8`, error);
  }
}
