/**
 * Bounds on what one OTLP request may cost. A request over a request-wide bound is refused whole
 * (413); a record over a per-value bound is rejected alone and counted (OTLP partial success).
 */
export interface DecodeLimits {
  /** Body bytes as received (compressed or not). Default 4 MiB. Over it: 413. */
  maxBodyBytes: number;
  /** Bytes after gzip inflation; inflation stops as soon as it is passed (gzip bombs). Default 16 MiB. Over it: 413. */
  maxDecompressedBytes: number;
  /** Records (log records, spans or metric data points) in one request. Default 10,000. Over it: 413. */
  maxRecords: number;
  /** Characters of one flattened attribute value (arrays and maps as JSON text). Default 16 KiB. Over it: the record is rejected. */
  maxAttributeValueLength: number;
  /** Characters of one log body as text. Default 256 KiB. Over it: the record is rejected. */
  maxLogBodyLength: number;
  /** Levels of arrayValue/kvlistValue inside one value; a plain scalar is depth 0. Default 8. Over it: the record is rejected. */
  maxNestingDepth: number;
  /** Buckets (bucket counts, or positive plus negative for exponential histograms) or quantiles of one metric data point. Default 4,096. Over it: the point is rejected. */
  maxBucketsPerPoint: number;
}

/** The defaults: generous for real exporters (the JS SDK batches 512 records by default), small enough to keep ingest memory bounded. */
export const defaultDecodeLimits: Readonly<DecodeLimits> = Object.freeze({
  maxBodyBytes: 4 * 1024 * 1024,
  maxDecompressedBytes: 16 * 1024 * 1024,
  maxRecords: 10_000,
  maxAttributeValueLength: 16 * 1024,
  maxLogBodyLength: 256 * 1024,
  maxNestingDepth: 8,
  // The SDKs default to 16 explicit bounds and 160 exponential buckets a side; 4,096 leaves room for tuned views.
  maxBucketsPerPoint: 4_096,
});

/** Fills in defaults for the limits a caller left out. */
export function resolveLimits(limits: Partial<DecodeLimits> = {}): DecodeLimits {
  return { ...defaultDecodeLimits, ...limits };
}
