/**
 * The first request head of a caller connection, read before any proxy takes the connection: by a
 * port shared by several services (host-router.ts), to learn which service the caller names, and
 * by a proxy whose upstream does not resolve yet, to answer 503 after the request rather than over
 * it. Bounded as the fast lane's reader is (16 KiB, a headers deadline); every byte read is kept,
 * so whoever takes the connection next sees it from its first byte.
 */
import type { Socket } from 'node:net';
import { headEnd, MAX_HEAD_BYTES } from './fast/head.js';

/** A head read in full: its text (latin1, the blank line excluded) and every byte read so far. */
export interface FirstHead {
  head: string;
  buffered: Buffer;
}

/** Why no head could be read: a status to answer with, or `closed` when the caller left first. */
export type FirstHeadFailure = { status: 408 | 431 } | { closed: true };

const noop = (): void => undefined;

/**
 * Reads until the first request head is complete. The socket is left paused, with no listener of
 * this reader on it, so the next owner attaches its own and replays `buffered`.
 */
export function readFirstHead(socket: Socket, initial: Buffer | undefined, headersTimeoutMs: number): Promise<FirstHead | FirstHeadFailure> {
  return new Promise((resolve) => {
    let buffered = initial ?? Buffer.alloc(0);
    const finish = (result: FirstHead | FirstHeadFailure): void => {
      socket.pause();
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      clearTimeout(timer);
      resolve(result);
    };
    const check = (): boolean => {
      const end = headEnd(buffered, 0);
      if (end >= 0) finish({ head: buffered.toString('latin1', 0, end - 4), buffered });
      else if (buffered.length > MAX_HEAD_BYTES) finish({ status: 431 });
      else return false;
      return true;
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      check();
    };
    const onGone = (): void => finish({ closed: true });
    // Errors are followed by close; a connection must never crash the process.
    socket.on('error', noop);
    const timer = setTimeout(() => finish({ status: 408 }), headersTimeoutMs);
    if (check()) return;
    socket.on('data', onData);
    socket.on('end', onGone);
    socket.on('close', onGone);
    socket.resume();
  });
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  421: 'Misdirected Request',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
};

/** How long a connection answered with an error may linger for its caller to read the answer, unless told. */
export const ANSWER_LINGER_MS = 5_000;

/**
 * Answers `status` with a text body, `connection: close`, and closes: the rest of the request is
 * read and dropped (closing over unread bytes would reset the connection and could lose the answer).
 * `head: true` when the request was a HEAD (no body then).
 */
export function answerAndClose(socket: Socket, status: number, text: string, head = false, lingerMs = ANSWER_LINGER_MS): void {
  if (socket.destroyed) return;
  const body = `${text}\n`;
  const length = Buffer.byteLength(body);
  socket.on('error', noop);
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ${length}\r\n\r\n${head ? '' : body}`);
  socket.on('data', noop);
  socket.resume();
  socket.setTimeout(lingerMs, () => socket.destroy());
}

/** Whether a head's request line names the HEAD method (its answer has no body). */
export function isHeadRequest(head: string): boolean {
  return head.startsWith('HEAD ');
}
