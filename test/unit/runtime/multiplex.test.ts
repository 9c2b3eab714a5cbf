import { describe, expect, it } from 'vitest';
import { FrameDecoder, LineSplitter, type StreamChunk } from '../../../src/runtime/docker/multiplex.js';

function frame(stream: 1 | 2, text: string | Buffer): Buffer {
  const payload = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Feeds `bytes` in pieces of `size` and returns the decoded output joined per stream. */
function decodeInPieces(bytes: Buffer, size: number): { stdout: string; stderr: string; pieces: StreamChunk[] } {
  const decoder = new FrameDecoder();
  const pieces: StreamChunk[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(...decoder.push(bytes.subarray(at, at + size)));
  const join = (stream: string) =>
    Buffer.concat(pieces.filter((p) => p.stream === stream).map((p) => p.data)).toString();
  return { stdout: join('stdout'), stderr: join('stderr'), pieces };
}

describe('FrameDecoder', () => {
  const stream = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n'), frame(1, 'world\n'), frame(1, '')]);

  it.each([1, 3, 7, 8, 9, 1000])('demultiplexes whatever the chunk size (%i bytes)', (size) => {
    const { stdout, stderr } = decodeInPieces(stream, size);
    expect(stdout).toBe('hello\nworld\n');
    expect(stderr).toBe('oops\n');
  });

  it('keeps the order of pieces across streams', () => {
    const { pieces } = decodeInPieces(stream, 1000);
    expect(pieces.map((p) => `${p.stream}:${p.data.toString()}`)).toEqual(['stdout:hello\n', 'stderr:oops\n', 'stdout:world\n']);
  });

  it('passes a stream that is not multiplexed through as stdout', () => {
    const decoder = new FrameDecoder();
    const out = [...decoder.push(Buffer.from('plain text output\n')), ...decoder.push(Buffer.from('more\n'))];
    expect(out.map((p) => p.stream)).toEqual(['stdout', 'stdout']);
    expect(Buffer.concat(out.map((p) => p.data)).toString()).toBe('plain text output\nmore\n');
  });
});

describe('LineSplitter', () => {
  it('joins a line split across pieces, per stream, and flushes the unterminated rest', () => {
    const splitter = new LineSplitter();
    const lines = [
      ...splitter.push({ stream: 'stdout', data: Buffer.from('par') }),
      ...splitter.push({ stream: 'stderr', data: Buffer.from('err one\nerr ') }),
      ...splitter.push({ stream: 'stdout', data: Buffer.from('tial\r\nnext\n') }),
      ...splitter.push({ stream: 'stdout', data: Buffer.from('\n') }),
      ...splitter.flush(),
    ];
    expect(lines).toEqual([
      { stream: 'stderr', text: 'err one' },
      { stream: 'stdout', text: 'partial' },
      { stream: 'stdout', text: 'next' },
      { stream: 'stdout', text: '' },
      { stream: 'stderr', text: 'err ' },
    ]);
  });

  it('does not break a multi-byte character split across frames', () => {
    const bytes = Buffer.concat([frame(1, Buffer.from('prix: 5 €\n'))]);
    const { pieces } = decodeInPieces(bytes, 1);
    const splitter = new LineSplitter();
    const lines = pieces.flatMap((piece) => splitter.push(piece));
    expect(lines).toEqual([{ stream: 'stdout', text: 'prix: 5 €' }]);
  });
});
