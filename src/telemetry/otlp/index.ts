/** OTLP/HTTP request decoding: protobuf and JSON, gzip, limits, partial success. */
export { decodeLogsRequest, decodeMetricsRequest, decodeTracesRequest } from './decode.js';
export { OtlpDecodeError, type OtlpDecodeStatus } from './errors.js';
export { defaultDecodeLimits, resolveLimits, type DecodeLimits } from './limits.js';
export { severityTextOf } from './flatten.js';
export {
  decodeExportResponse, encodeExportResponse, encodeStatusResponse, type OtlpAnswer, type OtlpSignal, type PartialSuccess,
} from './partial-success.js';
