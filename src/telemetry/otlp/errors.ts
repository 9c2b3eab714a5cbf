import { FlotillaError } from '../../core/errors.js';

/** HTTP statuses an OTLP/HTTP receiver answers a rejected request with. */
export type OtlpDecodeStatus = 400 | 413 | 415;

const codes: Record<OtlpDecodeStatus, string> = {
  400: 'OTLP_MALFORMED',
  413: 'OTLP_TOO_LARGE',
  415: 'OTLP_UNSUPPORTED_MEDIA_TYPE',
};

/** A whole OTLP request was refused: nothing from it may be stored. `status` is the HTTP answer. */
export class OtlpDecodeError extends FlotillaError {
  override readonly name = 'OtlpDecodeError';
  readonly status: OtlpDecodeStatus;

  constructor(status: OtlpDecodeStatus, message: string, options: { cause?: unknown } = {}) {
    super(codes[status], message, options);
    this.status = status;
  }
}

/** Shorthand for the common case: the body does not parse as OTLP. */
export function malformed(message: string, cause?: unknown): OtlpDecodeError {
  return new OtlpDecodeError(400, message, cause === undefined ? {} : { cause });
}
