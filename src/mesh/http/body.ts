/**
 * Request bodies on their way upstream. A body is buffered only when a retry or a duplicate needs
 * to send it again, and only up to a bound: past it, what was read is sent first and the rest streams
 * through (that request then gets no retry and no duplicate).
 */
import type { IncomingMessage } from 'node:http';

/** Where an attempt's body comes from. */
export type BodySource =
  /** The whole body, in memory: can be sent any number of times. */
  | { kind: 'buffer'; data: Buffer }
  /** `prefix` (already read), then the rest of the caller's request, streamed: once only. */
  | { kind: 'stream'; prefix: Buffer[] };

/** The empty body, for requests without one. */
export const EMPTY_BODY: BodySource = Object.freeze({ kind: 'buffer', data: Buffer.alloc(0) });

/** Whether the request announces a body (RFC 9112 §6.3: Transfer-Encoding, or a Content-Length above 0). */
export function hasBody(request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = request.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * Reads the body into memory if it fits in `limit` bytes; otherwise stops reading (the request is
 * paused) and returns what was read as the prefix of a stream. Rejects if the caller goes away.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<BodySource> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'stream', prefix: [] });
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      size += chunk.length;
      if (size > limit) {
        request.pause();
        cleanup();
        resolve({ kind: 'stream', prefix: parts });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ kind: 'buffer', data: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size) });
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the caller closed the connection while sending its request'));
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onError);
    request.once('close', onClose);
  });
}
