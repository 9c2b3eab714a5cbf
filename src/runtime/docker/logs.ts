/**
 * Container logs as lines: the Engine's stream is demultiplexed (no TTY) or taken as is (TTY),
 * split into lines across chunk boundaries, and ended quietly when the caller's signal aborts.
 */
import type Dockerode from 'dockerode';
import type { LogLine, LogOptions } from '../driver.js';
import { FrameDecoder, LineSplitter, type StreamChunk } from './multiplex.js';

/** Reads `container`'s logs; `tty` says whether its output is a raw stream (no frames). */
export async function* readLogs(container: Dockerode.Container, tty: boolean, options: LogOptions): AsyncGenerator<LogLine> {
  const { signal } = options;
  if (signal?.aborted) return;
  const query = {
    stdout: true,
    stderr: true,
    timestamps: options.timestamps,
    ...(options.tail !== undefined && { tail: options.tail }),
    ...(options.since !== undefined && { since: options.since }),
    ...(signal && { abortSignal: signal }),
  };

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
      for (const piece of pieces) yield* splitter.push(piece);
    }
    yield* splitter.flush();
  } catch (error) {
    // Aborting tears the connection down; that ends the logs, it is not a failure.
    if (signal?.aborted) return;
    throw error;
  } finally {
    signal?.removeEventListener('abort', stop);
    destroy(source);
  }
}

function destroy(source: unknown): void {
  const stream = source as { destroy?: () => void } | null;
  if (typeof stream?.destroy === 'function') stream.destroy();
}
