/**
 * A small protobuf writer for the OTLP messages Flotilla sends (the mesh's spans and metrics, the
 * collector's answers). Everything is written into one growing buffer; an embedded message
 * reserves five bytes for its length, and `end()` writes the real length and moves the message
 * back over the unused bytes. No buffer per field and no concatenation: encoding a span costs
 * about a microsecond.
 */

const enum Wire {
  varint = 0,
  fixed64 = 1,
  len = 2,
}

const RESERVED = 5;

/** Writes one protobuf message (with embedded messages) into a buffer. */
export class ProtoWriter {
  private buffer: Buffer;
  private pos = 0;
  private readonly starts: number[] = [];

  constructor(initialSize = 4096) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  /** A varint field (non-negative safe integer); zero is skipped, as proto3 does unless `always`. */
  varint(field: number, value: number, always = false): this {
    if (value === 0 && !always) return this;
    this.ensure(20);
    this.rawVarint(field * 8 + Wire.varint);
    this.rawVarint(value);
    return this;
  }

  /** A bool field; false is skipped. */
  bool(field: number, value: boolean): this {
    return value ? this.varint(field, 1) : this;
  }

  /** A fixed64 field from a bigint (two's complement for negatives: sfixed64 too). */
  fixed64(field: number, value: bigint): this {
    this.ensure(14);
    this.rawVarint(field * 8 + Wire.fixed64);
    this.buffer.writeBigUInt64LE(BigInt.asUintN(64, value), this.pos);
    this.pos += 8;
    return this;
  }

  /** A double field (always written). */
  double(field: number, value: number): this {
    this.ensure(14);
    this.rawVarint(field * 8 + Wire.fixed64);
    this.buffer.writeDoubleLE(value, this.pos);
    this.pos += 8;
    return this;
  }

  /** A string field; the empty string is skipped unless `always` (a oneof member must be present). */
  string(field: number, value: string, always = false): this {
    if (value === '' && !always) return this;
    const length = Buffer.byteLength(value);
    this.ensure(length + 15);
    this.rawVarint(field * 8 + Wire.len);
    this.rawVarint(length);
    this.pos += this.buffer.write(value, this.pos, 'utf8');
    return this;
  }

  /** A bytes field from lower-case hex (trace and span ids). */
  hex(field: number, value: string): this {
    const length = value.length / 2;
    this.ensure(length + 15);
    this.rawVarint(field * 8 + Wire.len);
    this.rawVarint(length);
    this.pos += this.buffer.write(value, this.pos, 'hex');
    return this;
  }

  /** A packed repeated fixed64 field. */
  packedFixed64(field: number, values: readonly number[]): this {
    this.begin(field);
    this.ensure(values.length * 8);
    for (const value of values) {
      this.buffer.writeBigUInt64LE(BigInt(value), this.pos);
      this.pos += 8;
    }
    return this.end();
  }

  /** A packed repeated double field. */
  packedDouble(field: number, values: readonly number[]): this {
    this.begin(field);
    this.ensure(values.length * 8);
    for (const value of values) {
      this.buffer.writeDoubleLE(value, this.pos);
      this.pos += 8;
    }
    return this.end();
  }

  /** Starts an embedded message (or any length-delimited field) in `field`; close it with `end()`. */
  begin(field: number): this {
    this.ensure(15);
    this.rawVarint(field * 8 + Wire.len);
    this.starts.push(this.pos);
    this.pos += RESERVED;
    return this;
  }

  /** Ends the innermost `begin()`: writes its length and closes the gap. */
  end(): this {
    const start = this.starts.pop();
    if (start === undefined) throw new Error('protobuf-writer: end() without begin()');
    const contentStart = start + RESERVED;
    const length = this.pos - contentStart;
    const at = this.pos;
    this.pos = start;
    this.rawVarint(length);
    const shift = contentStart - this.pos;
    if (shift > 0) this.buffer.copyWithin(this.pos, contentStart, at);
    this.pos = at - shift;
    return this;
  }

  /** The bytes written. */
  finish(): Buffer {
    if (this.starts.length > 0) throw new Error('protobuf-writer: finish() inside an open message');
    return Buffer.from(this.buffer.subarray(0, this.pos));
  }

  private rawVarint(value: number): void {
    let rest = value;
    while (rest >= 128) {
      this.buffer[this.pos++] = (rest % 128) | 0x80;
      rest = Math.floor(rest / 128);
    }
    this.buffer[this.pos++] = rest;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + extra));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }
}

/** Attribute values the mesh writes. */
export type AttributeValue = string | number | boolean;

/** Writes a `KeyValue` for each attribute under `field`. Non-negative integers are int_value, other numbers double_value. */
export function writeAttributes(writer: ProtoWriter, field: number, attributes: Readonly<Record<string, AttributeValue>>): void {
  for (const key in attributes) {
    const value = attributes[key] as AttributeValue;
    writer.begin(field).string(1, key).begin(2);
    if (typeof value === 'string') writer.string(1, value, true);
    else if (typeof value === 'boolean') writer.varint(2, value ? 1 : 0, true);
    else if (Number.isSafeInteger(value) && value >= 0) writer.varint(3, value, true);
    else writer.double(4, value);
    writer.end().end();
  }
}
