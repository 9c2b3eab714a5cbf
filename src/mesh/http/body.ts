/**
 * Request bodies on their way upstream. A body is buffered only when a retry or a duplicate needs
 * to send it again, and only up to two bounds: per request, and a byte budget shared by the whole
 * proxy. Past either, what was read is sent first and the rest streams through (that request then
 * gets no retry and no duplicate).
 *
 * A chunked body's trailer fields arrive with its end: a buffered body keeps them, so every send
 * (retry, duplicate) carries them again; a streamed body passes them on when it ends (attempt.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { endToEndTrailers, type Trailers } from './headers.js';

/** Where an attempt's body comes from. */
export type BodySource =
  /**
   * The whole body, in memory: can be sent any number of times, with its end-to-end `trailers`.
   * `held` bytes are charged to the proxy's budget (the trailers, bounded by Node's header size
   * limit, are not).
   */
  | { kind: 'buffer'; data: Buffer; held: number; trailers: Trailers }
  /** `prefix` (already read), then the rest of the caller's request, streamed: once only. */
  | { kind: 'stream'; prefix: Buffer[] };

/** The empty body, for requests without one. */
export const EMPTY_BODY: BodySource = Object.freeze({ kind: 'buffer', data: Buffer.alloc(0), held: 0, trailers: [] });

/** Bytes of request bodies held in memory by one proxy, at most `limit` at a time. */
export class BufferBudget {
  /** Bytes held now. */
  used = 0;
  /** Bodies that did not fit and were streamed instead. */
  refused = 0;

  constructor(public limit: number) {}

  /** Takes `bytes` if they fit; false otherwise. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** Gives back bytes taken earlier. */
  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/** Whether the request announces a body (RFC 9112 §6.3: Transfer-Encoding, or a Content-Length above 0). */
export function hasBody(request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = request.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * Reads the body into memory if it fits in `limit` bytes and in the proxy's `budget`; otherwise
 * stops reading (the request is paused), gives the bytes back to the budget and returns what was
 * read as the prefix of a stream. A buffered body stays charged to the budget until its owner gives
 * `held` back. Rejects if the caller goes away.
 */
export function readBody(request: IncomingMessage, limit: number, budget: BufferBudget): Promise<BodySource> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && (declared > limit || declared > budget.limit - budget.used)) {
    if (declared <= limit) budget.refused++;
    return Promise.resolve({ kind: 'stream', prefix: [] });
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };
    const toStream = (): void => {
      request.pause();
      cleanup();
      budget.give(size);
      resolve({ kind: 'stream', prefix: parts });
    };
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      const fits = size + chunk.length <= limit;
      if (fits && !budget.take(chunk.length)) {
        budget.refused++;
        toStream();
        return;
      }
      if (!fits) {
        toStream();
        return;
      }
      size += chunk.length;
    };
    const onEnd = (): void => {
      cleanup();
      // Node has parsed the trailer section by the time it emits 'end'.
      const trailers = endToEndTrailers(request.rawTrailers, request.headers);
      resolve({ kind: 'buffer', data: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size), held: size, trailers });
    };
    const onError = (error: Error): void => {
      cleanup();
      budget.give(size);
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      budget.give(size);
      reject(new Error('the caller closed the connection while sending its request'));
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onError);
    request.once('close', onClose);
  });
}

/**
 * Calls `onIdle` when `stream` delivers no data for `ms` while someone reads it. Time spent paused
 * by back-pressure (the reader is the slow one) does not count. Returns the disposer; it also stops
 * on end, close or error. `ms` 0 watches nothing. Install it once the stream has its reader: a
 * stream nobody reads yet (the proxy holding a request on purpose) is not watched.
 */
export function watchIdle(stream: Readable, ms: number, onIdle: () => void): () => void {
  // readableFlowing null: no reader yet, and a 'data' listener would start one.
  if (ms <= 0 || stream.readableEnded || stream.destroyed || stream.readableFlowing === null) return () => undefined;
  let timer: NodeJS.Timeout | undefined = setTimeout(fire, ms);
  function fire(): void {
    stop();
    onIdle();
  }
  function onData(): void {
    timer?.refresh();
  }
  function onPause(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
  }
  function onResume(): void {
    if (timer) timer.refresh();
    else timer = setTimeout(fire, ms);
  }
  function stop(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    stream.off('data', onData);
    stream.off('pause', onPause);
    stream.off('resume', onResume);
    stream.off('end', stop);
    stream.off('close', stop);
    stream.off('error', stop);
  }
  // A paused stream (pipe back-pressure, or a body read up to its bound) starts unarmed.
  if (stream.readableFlowing === false) onPause();
  stream.on('data', onData);
  stream.on('pause', onPause);
  stream.on('resume', onResume);
  stream.once('end', stop);
  stream.once('close', stop);
  stream.once('error', stop);
  return stop;
}
