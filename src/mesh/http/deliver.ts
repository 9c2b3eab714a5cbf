/**
 * The upstream's side of a request: the answer streamed back to the caller (after the downstream
 * faults), answers that are thrown away, and the second delivery of an `http_duplicate`. An upstream
 * body that goes silent is given up after the resilience settings' body idle timeout.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { attempt } from './attempt.js';
import { watchIdle, type BodySource } from './body.js';
import { Cancel } from './cancel.js';
import { answer, applyDelays, applyDrop } from './faults.js';
import type { BodyHold, ForwardContext, Outcome, RequestState } from './forward-context.js';
import { endToEndHeaders } from './headers.js';

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
  response.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, endToEndHeaders(upstream.headers));
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
