/**
 * The Engine's multiplexed stream format (logs and exec of a container without a TTY): frames of
 * an 8-byte header (stream type, 3 zero bytes, big-endian payload size) followed by the payload.
 * Chunk boundaries fall anywhere, including inside a header, so both decoders keep state.
 */
import type { LogLine } from '../driver.js';

/** A piece of one stream's output (a frame may arrive in several pieces). */
export interface StreamChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

const HEADER = 8;

/** Splits a multiplexed byte stream into stdout/stderr pieces without copying whole frames. */
export class FrameDecoder {
  private header = Buffer.alloc(0);
  private remaining = 0;
  private current: StreamChunk['stream'] = 'stdout';
  /** Set once a header is not a valid frame header: the stream was not multiplexed after all. */
  private raw = false;

  /** Feeds bytes in; returns the output they complete, in order. */
  push(chunk: Buffer): StreamChunk[] {
    if (this.raw) return chunk.length > 0 ? [{ stream: 'stdout', data: chunk }] : [];
    const out: StreamChunk[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        out.push({ stream: this.current, data: chunk.subarray(offset, offset + take) });
        this.remaining -= take;
        offset += take;
        continue;
      }
      const need = HEADER - this.header.length;
      this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + need)]);
      offset += Math.min(need, chunk.length - offset);
      if (this.header.length < HEADER) break;
      const type = this.header[0];
      if ((type !== 0 && type !== 1 && type !== 2) || this.header.readUIntBE(1, 3) !== 0) {
        // Docker's own client does the same: pass everything through as stdout from here on.
        this.raw = true;
        out.push({ stream: 'stdout', data: Buffer.concat([this.header, chunk.subarray(offset)]) });
        this.header = Buffer.alloc(0);
        return out;
      }
      // Type 0 (stdin) only appears echoed on a TTY-less attach; it is output like stdout.
      this.current = type === 2 ? 'stderr' : 'stdout';
      this.remaining = this.header.readUInt32BE(4);
      this.header = Buffer.alloc(0);
    }
    return out;
  }
}

/** Turns stream pieces into whole lines, per stream; a line may span many pieces. */
export class LineSplitter {
  private readonly partial: Record<StreamChunk['stream'], Buffer[]> = { stdout: [], stderr: [] };

  /** Feeds one piece; returns the lines it completes (without their `\n` or `\r\n`). */
  push({ stream, data }: StreamChunk): LogLine[] {
    const lines: LogLine[] = [];
    let start = 0;
    for (let at = data.indexOf(0x0a); at !== -1; at = data.indexOf(0x0a, start)) {
      const pending = this.partial[stream];
      pending.push(data.subarray(start, at));
      // Decoding only whole lines keeps a multi-byte character split across pieces intact.
      lines.push({ stream, text: stripCr(Buffer.concat(pending).toString('utf8')) });
      this.partial[stream] = [];
      start = at + 1;
    }
    if (start < data.length) this.partial[stream].push(data.subarray(start));
    return lines;
  }

  /** The unterminated last line of each stream, when the output ends without a newline. */
  flush(): LogLine[] {
    const lines: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const pending = this.partial[stream];
      if (pending.length > 0) lines.push({ stream, text: stripCr(Buffer.concat(pending).toString('utf8')) });
      this.partial[stream] = [];
    }
    return lines;
  }
}

function stripCr(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}
