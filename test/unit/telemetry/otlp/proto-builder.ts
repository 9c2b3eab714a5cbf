/**
 * A tiny protobuf writer for hand-made (and deliberately broken) OTLP bodies in tests.
 * Field numbers as in opentelemetry-proto; the exporter tests check the decoder against real bodies.
 */

/** A varint, two's complement for negative numbers (as int64 fields are written). */
export function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return Buffer.from(out);
}

/** A field key. */
export const key = (field: number, wire: number): Buffer => varint(field * 8 + wire);
/** A length-delimited field (string, bytes or message) made of the given parts. */
export const len = (field: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([key(field, 2), varint(body.length), body]);
};
/** A string field. */
export const str = (field: number, text: string): Buffer => len(field, Buffer.from(text));
/** A varint field. */
export const int = (field: number, n: number | bigint): Buffer => Buffer.concat([key(field, 0), varint(n)]);
/** A fixed64 field. */
export const fixed64 = (field: number, n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return Buffer.concat([key(field, 1), b]);
};
/** A double field. */
export const double = (field: number, n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(n);
  return Buffer.concat([key(field, 1), b]);
};
/** A bytes field from hex. */
export const hex = (field: number, text: string): Buffer => len(field, Buffer.from(text, 'hex'));

/** AnyValue builders (fields of AnyValue, wrapped by the caller). */
export const anyString = (s: string): Buffer => str(1, s);
export const anyInt = (n: number | bigint): Buffer => int(3, n);
export const anyArray = (...values: Buffer[]): Buffer => len(5, ...values.map((v) => len(1, v)));
/** A KeyValue message body. */
export const kv = (k: string, value: Buffer): Buffer => Buffer.concat([str(1, k), len(2, value)]);

/** ExportLogsServiceRequest with one resource (attributes as KeyValue bodies) and one scope. */
export function logsRequest(resource: Buffer[], records: Buffer[]): Buffer {
  return len(1,
    len(1, ...resource.map((a) => len(1, a))),
    len(2, len(1, str(1, 'scope')), ...records.map((r) => len(2, r))),
  );
}

/** ExportTraceServiceRequest with one resource and one scope. */
export function tracesRequest(resource: Buffer[], spans: Buffer[]): Buffer {
  return len(1,
    len(1, ...resource.map((a) => len(1, a))),
    len(2, len(1, str(1, 'scope')), ...spans.map((s) => len(2, s))),
  );
}

/** A LogRecord message body with a time, a body and optional extra fields. */
export const logRecord = (body: string, ...extra: Buffer[]): Buffer =>
  Buffer.concat([fixed64(1, 1_700_000_000_000_000_000n), len(5, anyString(body)), ...extra]);

/** A Span message body with valid ids and the given name. */
export const span = (name: string, ...extra: Buffer[]): Buffer =>
  Buffer.concat([hex(1, '0af7651916cd43dd8448eb211c80319c'), hex(2, 'b7ad6b7169203331'), str(5, name), ...extra]);

/** A sint32/sint64 field (ZigZag varint). */
export const sint = (field: number, n: number): Buffer => Buffer.concat([key(field, 0), varint(n >= 0 ? 2 * n : -2 * n - 1)]);
/** An sfixed64 field. */
export const sfixed64 = (field: number, n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return Buffer.concat([key(field, 1), b]);
};
/** A packed repeated fixed64 field. */
export const packedFixed64 = (field: number, values: (number | bigint)[]): Buffer =>
  len(field, ...values.map((v) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  }));
/** A packed repeated double field. */
export const packedDoubles = (field: number, values: number[]): Buffer =>
  len(field, ...values.map((v) => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return b;
  }));
/** A packed repeated varint field. */
export const packedVarints = (field: number, values: (number | bigint)[]): Buffer => len(field, ...values.map((v) => varint(v)));

/** ExportMetricsServiceRequest with one resource and one scope holding the given Metric bodies. */
export function metricsRequest(resource: Buffer[], metrics: Buffer[]): Buffer {
  return len(1,
    len(1, ...resource.map((a) => len(1, a))),
    len(2, len(1, str(1, 'scope')), ...metrics.map((m) => len(2, m))),
  );
}

/** The time every hand-built data point carries unless told otherwise. */
export const POINT_TIME = 1_700_000_000_000_000_000n;

/** A Metric body: name, then the given fields (a data field built with gaugeOf, sumOf ...). */
export const metric = (name: string, ...fields: Buffer[]): Buffer => Buffer.concat([str(1, name), ...fields]);
/** Metric.gauge (5) with NumberDataPoint bodies. */
export const gaugeOf = (...points: Buffer[]): Buffer => len(5, ...points.map((p) => len(1, p)));
/** Metric.sum (7): data points, temporality (2), is_monotonic (3). */
export const sumOf = (temporality: number, monotonic: boolean, ...points: Buffer[]): Buffer =>
  len(7, ...points.map((p) => len(1, p)), int(2, temporality), int(3, monotonic ? 1 : 0));
/** Metric.histogram (9): data points, temporality. */
export const histogramOf = (temporality: number, ...points: Buffer[]): Buffer => len(9, ...points.map((p) => len(1, p)), int(2, temporality));
/** Metric.exponential_histogram (10): data points, temporality. */
export const exponentialOf = (temporality: number, ...points: Buffer[]): Buffer => len(10, ...points.map((p) => len(1, p)), int(2, temporality));
/** Metric.summary (11): data points. */
export const summaryOf = (...points: Buffer[]): Buffer => len(11, ...points.map((p) => len(1, p)));
/** A NumberDataPoint body with time (3) and as_double (4), then any extra fields. */
export const doublePoint = (value: number, ...extra: Buffer[]): Buffer => Buffer.concat([fixed64(3, POINT_TIME), double(4, value), ...extra]);
