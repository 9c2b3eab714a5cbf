/**
 * Container logs as lines: the Engine's stream is demultiplexed (no TTY) or taken as is (TTY),
 * split into lines across chunk boundaries, and ended quietly when the caller's signal aborts.
 */
import type Dockerode from 'dockerode';
import { InternalError } from '../../core/errors.js';
import type { LogLine, LogOptions } from '../driver.js';
import { FrameDecoder, LineSplitter, type StreamChunk } from './multiplex.js';

/** The Engine's `since`: Unix seconds with up to nine decimals. */
const SINCE_TEXT = /^\d+(?:\.\d{1,9})?$/;
/** The RFC 3339 stamp the Engine puts before each line when asked for timestamps, and the space after it. */
const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) /;

/** Reads `container`'s logs; `tty` says whether its output is a raw stream (no frames). */
export async function* readLogs(container: Dockerode.Container, tty: boolean, options: LogOptions): AsyncGenerator<LogLine> {
  const { signal } = options;
  if (signal?.aborted) return;
  if (typeof options.since === 'string' && !SINCE_TEXT.test(options.since)) {
    throw new InternalError(`log "since" must be Unix seconds with up to nine decimals, got "${options.since}"`);
  }
  const stamped = options.timestamps || options.lineTimes === true;
  const query = {
    stdout: true,
    stderr: true,
    timestamps: stamped,
    ...(options.tail !== undefined && { tail: options.tail }),
    ...(options.since !== undefined && { since: options.since }),
    ...(signal && { abortSignal: signal }),
  };
  const shape = (line: LogLine): LogLine => (stamped ? withTime(line, options) : line);

  // Without follow dockerode buffers the whole answer; with follow it hands over the live stream.
  let source: AsyncIterable<unknown> | Iterable<unknown>;
  try {
    source = options.follow ? await container.logs({ ...query, follow: true }) : [await container.logs({ ...query, follow: false })];
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }

  const decoder = tty ? undefined : new FrameDecoder();
  const splitter = new LineSplitter();
  const stop = (): void => destroy(source);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of source) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      const pieces: StreamChunk[] = decoder ? decoder.push(bytes) : [{ stream: 'stdout', data: bytes }];
      for (const piece of pieces) for (const line of splitter.push(piece)) yield shape(line);
    }
    for (const line of splitter.flush()) yield shape(line);
  } catch (error) {
    // Aborting tears the connection down; that ends the logs, it is not a failure.
    if (signal?.aborted) return;
    throw error;
  } finally {
    signal?.removeEventListener('abort', stop);
    destroy(source);
  }
}

/** Moves the Engine's stamp into `time` when asked for, and keeps it in the text only for `timestamps`. */
function withTime(line: LogLine, options: LogOptions): LogLine {
  const match = STAMP.exec(line.text);
  // A line without a stamp is the rest of an over-long line the Engine split into stamped parts.
  if (!match?.[1]) return line;
  const text = options.timestamps ? line.text : line.text.slice(match[0].length);
  return options.lineTimes ? { ...line, text, time: match[1] } : { ...line, text };
}

function destroy(source: unknown): void {
  const stream = source as { destroy?: () => void } | null;
  if (typeof stream?.destroy === 'function') stream.destroy();
}
