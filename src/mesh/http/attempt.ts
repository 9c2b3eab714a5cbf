/**
 * One attempt at an upstream replica: sends the request (headers, then the body from its source)
 * and resolves with the response head, or with a classified error. The timeout covers the wait for
 * the response head; the body then streams for as long as it does not go silent (deliver.ts). The
 * caller's trailer fields go with the body.
 */
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { BodySource } from './body.js';
import type { Cancel } from './cancel.js';
import { endToEndTrailers } from './headers.js';
import type { Replica } from './replicas.js';
import type { AttemptErrorKind } from './resilience.js';

/** What one attempt came to. */
export type AttemptResult =
  | { ok: true; response: IncomingMessage; request: http.ClientRequest }
  | { ok: false; kind: AttemptErrorKind; error: Error; /** The request went out on a kept-alive socket that turned out dead. */ staleSocket: boolean };

/** How to make one attempt. */
export interface AttemptOptions {
  replica: Replica;
  agent: http.Agent;
  method: string;
  /** Origin-form target: path and query. */
  path: string;
  headers: OutgoingHttpHeaders;
  body: BodySource;
  /** The caller's request, for a streamed body. */
  source: IncomingMessage;
  /** 0 for none. */
  timeoutMs: number;
  /** Cancels the attempt (caller gone, proxy closing). */
  signal: Cancel;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** Classifies an upstream error for the retry rules. */
export function classifyError(error: NodeJS.ErrnoException, timedOut: boolean): AttemptErrorKind {
  if (timedOut) return 'timeout';
  if (error.code !== undefined && CONNECT_ERRORS.has(error.code)) return 'connect';
  return 'reset';
}

/** Sends one request upstream; never rejects. */
export function attempt(options: AttemptOptions): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const { replica, body } = options;
    let settled = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const request = http.request({
      host: replica.target.host || '127.0.0.1',
      port: replica.target.port,
      method: options.method,
      path: options.path,
      headers: options.headers,
      agent: options.agent,
    });
    const removeCancel = options.signal.cancelled ? undefined : options.signal.onCancel(() => request.destroy(new Error('attempt cancelled')));
    const settle = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      removeCancel?.();
      resolve(result);
    };
    request.once('response', (response) => settle({ ok: true, response, request }));
    request.on('error', (error: NodeJS.ErrnoException) => {
      settle({ ok: false, kind: classifyError(error, timedOut), error, staleSocket: request.reusedSocket && !timedOut });
    });
    if (options.signal.cancelled) {
      request.destroy(new Error('attempt cancelled'));
      return;
    }
    if (options.timeoutMs > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        request.destroy(new Error(`no response from ${replica.address} within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
    }
    if (body.kind === 'buffer') {
      // Sent only on a chunked request; forward.ts sends a body with trailers chunked.
      if (body.trailers.length > 0) request.addTrailers(body.trailers);
      if (body.data.length === 0) request.end();
      else request.end(body.data);
      return;
    }
    for (const chunk of body.prefix) request.write(chunk);
    const source = options.source;
    // The caller's trailers are parsed by the time its body ends. This listener comes before the
    // one pipe() adds, which ends the request (and writes the trailers with the last chunk).
    source.once('end', () => {
      const trailers = endToEndTrailers(source.rawTrailers, source.headers);
      if (trailers.length > 0) request.addTrailers(trailers);
    });
    source.pipe(request);
  });
}
