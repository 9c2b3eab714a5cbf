/**
 * The upstream's side of a request: the answer streamed back to the caller (after the downstream
 * faults), answers that are thrown away, and the second delivery of an `http_duplicate`. An upstream
 * body that goes silent is given up after the resilience settings' body idle timeout. Its trailer
 * fields reach the caller when the answer is chunked.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { attempt } from './attempt.js';
import { watchIdle, type BodySource } from './body.js';
import { Cancel } from './cancel.js';
import { answer, applyDelays, applyDrop } from './faults.js';
import type { BodyHold, ForwardContext, Outcome, RequestState } from './forward-context.js';
import { announcedTrailers, endToEndHeaders, endToEndTrailers } from './headers.js';

/** Reads an answer nobody wants to its end (so its socket can be reused), or destroys it if it stalls. */
export function discard(context: ForwardContext, upstream: IncomingMessage): void {
  upstream.resume();
  watchIdle(upstream, context.resilience.bodyIdleTimeoutMs, () => upstream.destroy());
}

/** Applies the downstream faults to the upstream's answer, then streams it to the caller. */
export async function deliver(context: ForwardContext, upstream: IncomingMessage, response: ServerResponse, state: RequestState): Promise<void> {
  const { plan, outcome, signal } = state;
  if (plan) {
    const down = plan.downstream;
    await applyDelays(context, down, outcome, signal);
    if (down.drop && (await applyDrop(context, down.drop, response, outcome, signal))) {
      upstream.destroy();
      return;
    }
    if (down.abort) {
      discard(context, upstream);
      outcome.faults.push(down.abort.toxic.name);
      outcome.error = `aborted by ${down.abort.toxic.name}`;
      answer(response, down.abort.attributes.status, `mesh: aborted by fault ${down.abort.toxic.name}`);
      return;
    }
    if (signal.cancelled) {
      upstream.destroy();
      return;
    }
  }
  const status = upstream.statusCode ?? 502;
  const headers = endToEndHeaders(upstream.headers);
  // Node throws on a Trailer field in a message it does not send chunked, so it is announced only
  // on an answer that will be (and only if the upstream's was: trailers come only with chunks).
  const announced = upstream.headers['transfer-encoding'] === undefined ? undefined : announcedTrailers(upstream.headers);
  if (announced && sendsChunked(response, state.method, status, headers)) headers.trailer = announced;
  response.writeHead(status, upstream.statusMessage, headers);
  // Headers normally leave with the first body chunk (one write). If a body of unknown length (a
  // stream, server-sent events) has not started by the next turn of the loop, they go on their own.
  if (upstream.headers['content-length'] === undefined && !upstream.complete && upstream.readableLength === 0) {
    const flush = setImmediate(() => response.flushHeaders());
    upstream.once('data', () => clearImmediate(flush));
    upstream.once('end', () => clearImmediate(flush));
  }
  let stalled = false;
  upstream.on('error', () => response.destroy());
  upstream.once('close', () => {
    if (upstream.complete) return;
    if (!stalled) outcome.error = 'the upstream closed before the end of its answer';
    response.destroy();
  });
  response.once('close', () => {
    if (!upstream.complete) upstream.destroy();
  });
  // The upstream's trailers are parsed by the time its body ends. This listener comes before the
  // one pipe() adds, which ends the response (and writes the trailers with the last chunk). On an
  // answer that is not chunked (an HTTP/1.0 caller), Node drops them.
  upstream.once('end', () => {
    const trailers = endToEndTrailers(upstream.rawTrailers, upstream.headers);
    if (trailers.length > 0) response.addTrailers(trailers);
  });
  upstream.pipe(response);
  const idleMs = context.resilience.bodyIdleTimeoutMs;
  // Silence while the caller reads slowly (pipe back-pressure) is the caller's, and does not count.
  watchIdle(upstream, idleMs, () => {
    stalled = true;
    outcome.error = `the upstream's answer stalled for ${idleMs} ms`;
    upstream.destroy();
    response.destroy();
  });
}

/**
 * Whether Node will send this answer chunked, as its `_storeHeader` decides: a body is allowed (not
 * HEAD, 1xx, 204 or 304), no Content-Length, and a caller that reads chunks (HTTP/1.1, or a TE
 * asking for them: Node's `useChunkedEncodingByDefault`).
 */
function sendsChunked(response: ServerResponse, method: string, status: number, headers: OutgoingHttpHeaders): boolean {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return false;
  return headers['content-length'] === undefined && response.useChunkedEncodingByDefault;
}

/** The request a duplicate repeats. */
export interface DuplicateRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: BodySource;
  source: IncomingMessage;
}

/**
 * The second delivery of an `http_duplicate`: sent to a replica in turn; its answer is read and
 * dropped. At most `maxDuplicatesInFlight` at a time (past it the duplicate is skipped and counted),
 * each for at most the attempt timeout (or `duplicateTimeoutMs` when there is none), head and body.
 */
export function sendDuplicate(context: ForwardContext, request: DuplicateRequest, hold: BodyHold, outcome: Outcome): void {
  const counters = context.counters;
  if (counters.duplicatesInFlight >= context.maxDuplicatesInFlight) {
    counters.duplicatesSkipped++;
    outcome.error = `duplicate skipped: ${counters.duplicatesInFlight} duplicates in flight already`;
    return;
  }
  counters.duplicates++;
  counters.attempts++;
  counters.duplicatesInFlight++;
  hold.retain();
  const cancel = new Cancel();
  let answer: IncomingMessage | undefined;
  let finished = false;
  const stop = (): void => {
    cancel.cancel();
    answer?.destroy();
  };
  const removeClosing = context.closing.onCancel(stop);
  const timeoutMs = context.resilience.attemptTimeoutMs > 0 ? context.resilience.attemptTimeoutMs : context.duplicateTimeoutMs;
  const timer = setTimeout(stop, timeoutMs);
  const done = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    removeClosing();
    counters.duplicatesInFlight--;
    hold.release();
  };
  const replica = context.replicas.pick();
  void attempt({ ...request, replica, agent: context.agent, timeoutMs: 0, signal: cancel }).then((result) => {
    if (!result.ok) {
      done();
      return;
    }
    answer = result.response;
    answer.once('close', done);
    if (cancel.cancelled) answer.destroy();
    else answer.resume();
  });
}
