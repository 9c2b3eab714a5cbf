/**
 * The answer of an HTTP proxy whose upstream names resolve to nothing yet: the shared proxy starts
 * before any replica of its services exists (`up` creates it first), so for a while a service has
 * no address to send to. A 503 that says so beats a 502 with a DNS error per request; the caller's
 * request head is read first, so the answer follows the request instead of crossing it.
 */
import type { Socket } from 'node:net';
import { answerAndClose, isHeadRequest, readFirstHead } from './first-head.js';

/** What the 503 names. */
export interface UnresolvedUpstream {
  service: string;
  /** The upstream list, as configured. */
  upstream: string;
  headersTimeoutMs: number;
  /** How long the answered connection may stay open for the caller to read the answer. */
  lingerMs: number;
}

/** Reads the caller's first request head and answers 503 (or 408/431), then closes. */
export function answerUnresolved(socket: Socket, buffered: Buffer | undefined, what: UnresolvedUpstream): void {
  void readFirstHead(socket, buffered, what.headersTimeoutMs).then((read) => {
    if ('closed' in read) socket.destroy();
    else if ('status' in read) answerAndClose(socket, read.status, `mesh: ${read.status === 408 ? 'no request head in time' : 'request head too large'}`, false, what.lingerMs);
    else answerAndClose(socket, 503, `mesh: no replica of "${what.service}" yet: its upstream ${what.upstream} does not resolve`, isHeadRequest(read.head), what.lingerMs);
  });
}
