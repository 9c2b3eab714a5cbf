/**
 * Where a response body ends, read as its bytes pass through unchanged (RFC 9112 §6.3): after
 * Content-Length bytes, after the last chunk and its trailer section, or when the upstream closes.
 * The fast lane forwards the bytes as they come; this only counts them, so chunk extensions and
 * trailers reach the caller as the upstream sent them.
 */

/** How a body is delimited. */
export type Framing = { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

const enum Chunk {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerLineStart,
  TrailerLine,
  TrailerLf,
  FinalLf,
}

const MAX_SIZE_DIGITS = 12;

/** Counts a body's bytes until its end; `done` once it is over, `invalid` when the chunked framing is broken. */
export class BodyFramer {
  done = false;
  invalid = false;
  private remaining = 0;
  private state = Chunk.Size;
  private size = 0;
  private digits = 0;

  constructor(private readonly framing: Framing) {
    if (framing.kind === 'length') {
      this.remaining = framing.length;
      this.done = framing.length === 0;
    }
  }

  /** Whether the body ends only when the upstream closes. */
  get untilClose(): boolean {
    return this.framing.kind === 'close';
  }

  /** How many bytes of `chunk` from `offset` belong to the body (the rest is past its end). */
  take(chunk: Buffer, offset: number): number {
    if (this.done || this.invalid) return 0;
    const available = chunk.length - offset;
    switch (this.framing.kind) {
      case 'close':
        return available;
      case 'length': {
        const used = Math.min(available, this.remaining);
        this.remaining -= used;
        this.done = this.remaining === 0;
        return used;
      }
      case 'chunked':
        return this.takeChunked(chunk, offset);
    }
  }

  private takeChunked(chunk: Buffer, offset: number): number {
    let at = offset;
    while (at < chunk.length && !this.done) {
      if (this.state === Chunk.Data) {
        const used = Math.min(chunk.length - at, this.remaining);
        at += used;
        this.remaining -= used;
        if (this.remaining === 0) this.state = Chunk.DataCr;
        continue;
      }
      const byte = chunk[at++]!;
      if (!this.step(byte)) {
        this.invalid = true;
        return at - offset;
      }
    }
    return at - offset;
  }

  /** One byte of chunk framing; false when it is not valid there. */
  private step(byte: number): boolean {
    switch (this.state) {
      case Chunk.Size: {
        const digit = hexValue(byte);
        if (digit >= 0) {
          if (++this.digits > MAX_SIZE_DIGITS) return false;
          this.size = this.size * 16 + digit;
          return true;
        }
        if (this.digits === 0) return false;
        if (byte === 0x0d) this.state = Chunk.SizeLf;
        else if (byte === 0x3b || byte === 0x20 || byte === 0x09) this.state = Chunk.Extension;
        else return false;
        return true;
      }
      case Chunk.Extension:
        if (byte === 0x0d) this.state = Chunk.SizeLf;
        else if (byte === 0x0a) return false;
        return true;
      case Chunk.SizeLf:
        if (byte !== 0x0a) return false;
        if (this.size === 0) this.state = Chunk.TrailerLineStart;
        else {
          this.remaining = this.size;
          this.state = Chunk.Data;
        }
        this.size = 0;
        this.digits = 0;
        return true;
      case Chunk.DataCr:
        if (byte !== 0x0d) return false;
        this.state = Chunk.DataLf;
        return true;
      case Chunk.DataLf:
        if (byte !== 0x0a) return false;
        this.state = Chunk.Size;
        return true;
      case Chunk.TrailerLineStart:
        // An empty line ends the trailer section, and the message.
        this.state = byte === 0x0d ? Chunk.FinalLf : Chunk.TrailerLine;
        return byte !== 0x0a;
      case Chunk.TrailerLine:
        if (byte === 0x0d) this.state = Chunk.TrailerLf;
        else if (byte === 0x0a) return false;
        return true;
      case Chunk.TrailerLf:
        if (byte !== 0x0a) return false;
        this.state = Chunk.TrailerLineStart;
        return true;
      case Chunk.FinalLf:
        if (byte !== 0x0a) return false;
        this.done = true;
        return true;
      default:
        return false;
    }
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}

/** How the body of a response to `method` with this status and head is delimited. */
export function responseFraming(method: string, status: number, head: { contentLength: number; chunked: boolean }): Framing {
  // No body, whatever the head says (RFC 9112 §6.3 rule 1).
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return { kind: 'length', length: 0 };
  if (head.chunked) return { kind: 'chunked' };
  if (head.contentLength >= 0) return { kind: 'length', length: head.contentLength };
  return { kind: 'close' };
}
