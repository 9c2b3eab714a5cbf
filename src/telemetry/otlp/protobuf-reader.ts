import { malformed } from './errors.js';
import { utf8 } from './body.js';

/** Protobuf wire types (https://protobuf.dev/programming-guides/encoding/). */
export const Wire = { varint: 0, fixed64: 1, len: 2, fixed32: 5 } as const;

/**
 * A bounds-checked reader for the protobuf wire format over one message's bytes. Every read
 * that would pass the end throws a 400 OtlpDecodeError, so truncated or forged lengths can
 * never read outside the buffer or allocate more than the body already holds.
 */
export class ProtobufReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** True when every byte of the message has been read. */
  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field key: the field number and its wire type. */
  tag(): { field: number; wire: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) throw malformed(`protobuf field number 0 at byte ${this.pos}`);
    return { field, wire: key % 8 };
  }

  /** Reads a varint of up to 64 bits as an unsigned bigint. */
  varint64(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw malformed(`protobuf varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** Reads a varint that must fit a JS number exactly (lengths, enums, counts). */
  varint(): number {
    const value = this.varint64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`protobuf varint too large at byte ${this.pos}`);
    return Number(value);
  }

  /** Reads an int32/enum varint: negative values arrive sign-extended to 64 bits. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint64()));
  }

  /** Reads a uint32 varint (a wider value keeps its low 32 bits, as protobuf parsers do). */
  uint32(): number {
    return Number(BigInt.asUintN(32, this.varint64()));
  }

  /** Reads a sint32 varint (ZigZag: 0, -1, 1, -2 … as 0, 1, 2, 3 …). */
  sint32(): number {
    const n = Number(BigInt.asUintN(32, this.varint64()));
    return (n >>> 1) ^ -(n & 1);
  }

  /** Reads a fixed64 as an unsigned bigint (timestamps in nanoseconds). */
  fixed64(): bigint {
    const at = this.advance(8);
    return this.buf.readBigUInt64LE(at);
  }

  /** Reads an sfixed64 as a signed bigint. */
  sfixed64(): bigint {
    const at = this.advance(8);
    return this.buf.readBigInt64LE(at);
  }

  /** Reads a little-endian IEEE 754 double. */
  double(): number {
    const at = this.advance(8);
    return this.buf.readDoubleLE(at);
  }

  /** Reads a length-delimited field and returns a reader over just its bytes. */
  message(): ProtobufReader {
    const [start, end] = this.lengthDelimited();
    return new ProtobufReader(this.buf, start, end);
  }

  /** Reads a length-delimited field's raw bytes (a view, not a copy). */
  bytes(): Buffer {
    const [start, end] = this.lengthDelimited();
    return this.buf.subarray(start, end);
  }

  /** Reads a string field; proto3 requires valid UTF-8, so anything else is malformed. */
  string(what: string): string {
    return utf8(this.bytes(), what);
  }

  /** Skips a field this decoder does not use, so newer OTLP versions still decode. */
  skip(wire: number): void {
    if (wire === Wire.varint) this.varint64();
    else if (wire === Wire.fixed64) this.advance(8);
    else if (wire === Wire.len) this.lengthDelimited();
    else if (wire === Wire.fixed32) this.advance(4);
    // Groups (3, 4) are not used by any OTLP message; 6 and 7 do not exist.
    else throw malformed(`unsupported protobuf wire type ${wire} at byte ${this.pos}`);
  }

  /** Fails unless a known field arrived with the wire type its schema declares. */
  expect(field: number, wire: number, want: number): void {
    if (wire !== want) throw malformed(`protobuf field ${field} has wire type ${wire}, expected ${want}`);
  }

  private lengthDelimited(): [number, number] {
    const length = this.varint();
    const start = this.advance(length);
    return [start, start + length];
  }

  private advance(n: number): number {
    if (n > this.end - this.pos) throw malformed(`truncated protobuf: ${n} bytes needed at byte ${this.pos}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private byte(): number {
    const at = this.advance(1);
    return this.buf[at] ?? 0;
  }
}
