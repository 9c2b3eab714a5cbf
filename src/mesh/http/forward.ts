/**
 * The work done for one HTTP request: plan the message faults (a snapshot at arrival), apply the
 * upstream ones, read the body only if a retry or a duplicate needs it, try replicas under the
 * resilience settings, then hand the answer to deliver.ts; record telemetry when it is over.
 * Trailer fields cross both ways (body.ts, attempt.ts, deliver.ts).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { attempt, type AttemptResult } from './attempt.js';
import { Cancel } from './cancel.js';
import { EMPTY_BODY, hasBody, readBody, watchIdle, type BodySource } from './body.js';
import { deliver, discard, sendDuplicate } from './deliver.js';
import { answer, applyDelays, applyDrop, resetSocket, sleep } from './faults.js';
import { BodyHold, type ForwardContext, type Outcome, type RequestState } from './forward-context.js';
import { announcedTrailers, appendForwardedFor, endToEndHeaders, plainIp } from './headers.js';
import { planFaults, type FaultPlan } from './message-toxics.js';
import type { Replica } from './replicas.js';
import { backoffDelayMs, isRetryable } from './resilience.js';
import { pathOf, routeOf } from './route.js';
import { formatTraceparent, newSpanId, readTraceparent, wallClockNs, type TraceContext } from './trace-context.js';
import { sampleTrace } from './telemetry/recorder.js';
import { passUpgrade } from './upgrade.js';

export type { ForwardContext } from './forward-context.js';

/** Origin-form target for the upstream: an absolute-form target keeps only its path and query. */
function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  const path = pathOf(target);
  const query = target.indexOf('?');
  return query >= 0 ? path + target.slice(query) : path;
}

/** Handles one request; never throws (a failure answers 502 or resets). */
export function forwardRequest(context: ForwardContext, request: IncomingMessage, response: ServerResponse): void {
  const arrival = arrive(context, request);
  const { method, target, trace, serverSpanId, callerAddress, plan, outcome } = arrival;
  const counters = context.counters;
  counters.requests++;
  counters.active++;
  // Cancelled when the caller goes away (disabling the proxy destroys every caller's socket).
  const gone = new Cancel();
  const body = new BodyHold(context.bodyBudget);
  response.once('close', () => {
    counters.active--;
    body.release();
    if (!response.writableFinished) {
      gone.cancel();
      outcome.error ??= 'the response was not completed';
    }
    recordArrival(context, arrival, response.headersSent ? response.statusCode : 0);
  });
  run(context, request, response, { method, target, trace, serverSpanId, callerAddress, plan, outcome, signal: gone, body }).catch((error: unknown) => {
    if (!gone.cancelled) outcome.error = error instanceof Error ? error.message : String(error);
    answer(response, 502, `mesh: ${outcome.error ?? 'error'}`);
  });
}

/** What a request (or an upgrade) is at its arrival: its trace, its span ids, its fault plan, and the outcome filled in as it goes. */
interface Arrival {
  method: string;
  target: string;
  started: number;
  startNs: bigint;
  callerAddress: string;
  trace: TraceContext;
  sampled: boolean;
  clientSpanId: string;
  serverSpanId: string;
  plan: FaultPlan | undefined;
  outcome: Outcome;
}

function arrive(context: ForwardContext, request: IncomingMessage): Arrival {
  const method = request.method ?? 'GET';
  const target = request.url ?? '/';
  const trace = readTraceparent(request.headers.traceparent);
  const toxics = context.messageToxics;
  const started = performance.now();
  return {
    method,
    target,
    started,
    startNs: wallClockNs(started),
    callerAddress: plainIp(request.socket.remoteAddress),
    trace,
    sampled: sampleTrace(context.telemetry, trace),
    clientSpanId: newSpanId(),
    serverSpanId: newSpanId(),
    plan: toxics.length === 0 ? undefined : planFaults(toxics, { method, path: pathOf(target), headers: request.headers }, context.random),
    outcome: { attempts: 0, upstream: undefined, error: undefined, faults: [] },
  };
}

/** Records a request (or an upgrade) once it is over, with the status its caller got (0: none). */
function recordArrival(context: ForwardContext, arrival: Arrival, status: number): void {
  const { outcome } = arrival;
  if (outcome.faults.length > 0) context.counters.faulted++;
  context.telemetry.record({
    caller: context.resolveCaller(arrival.callerAddress),
    callerAddress: arrival.callerAddress,
    method: arrival.method,
    route: routeOf(arrival.target),
    status,
    attempts: outcome.attempts,
    startTimeUnixNano: arrival.startNs,
    durationNs: BigInt(Math.round((performance.now() - arrival.started) * 1e6)),
    traceId: arrival.trace.traceId,
    parentSpanId: arrival.trace.parentSpanId,
    clientSpanId: arrival.clientSpanId,
    serverSpanId: arrival.serverSpanId,
    upstream: outcome.upstream,
    error: outcome.error,
    faults: outcome.faults,
    sampled: arrival.sampled,
  });
}

/**
 * Gives up a request whose caller stops sending its body while the proxy reads it: 408 if nothing
 * was answered yet, and the connection closes; the upstream attempt is cancelled. False when the
 * body has no reader yet (nothing watched).
 */
function watchRequestBody(context: ForwardContext, request: IncomingMessage, response: ServerResponse, state: RequestState): boolean {
  if (request.readableFlowing === null) return false;
  const ms = context.requestBodyIdleTimeoutMs;
  watchIdle(request, ms, () => {
    state.outcome.error = `the caller's request body stalled for ${ms} ms`;
    state.signal.cancel();
    answer(response, 408, `mesh: ${state.outcome.error}`, true);
  });
  return true;
}

async function run(context: ForwardContext, request: IncomingMessage, response: ServerResponse, state: RequestState): Promise<void> {
  const { plan, outcome, signal, method } = state;
  const settings = context.resilience;
  context.budget.recordRequest();

  if (plan) {
    const up = plan.upstream;
    // Holding a request on purpose is the proxy's doing: the server's request timeout must not end it.
    const socket: Socket = request.socket;
    context.holding.add(socket);
    try {
      await applyDelays(context, up, outcome, signal);
      if (up.drop && (await applyDrop(context, up.drop, response, outcome, signal))) return;
    } finally {
      context.holding.delete(socket);
    }
    if (up.abort) {
      outcome.faults.push(up.abort.toxic.name);
      outcome.error = `aborted by ${up.abort.toxic.name}`;
      answer(response, up.abort.attributes.status, `mesh: aborted by fault ${up.abort.toxic.name}`);
      return;
    }
    if (signal.cancelled) return;
  }

  const duplicate = plan?.upstream.duplicate ?? plan?.downstream.duplicate;
  const idempotent = isRetryable(method, request.headers);
  const retryable = settings.retries.attempts > 1 && idempotent;
  const withBody = hasBody(request);
  let body: BodySource = EMPTY_BODY;
  let bodyWatched = false;
  if (withBody) {
    if (duplicate || retryable) {
      const reading = readBody(request, context.maxBodyBufferBytes, context.bodyBudget);
      bodyWatched = watchRequestBody(context, request, response, state);
      body = await reading;
    } else body = { kind: 'stream', prefix: [] };
  }
  if (body.kind === 'buffer') state.body.hold(body.held);
  const replayable = body.kind === 'buffer';
  // Safe to send again: an idempotent request, or one whose (empty) body never left.
  const resendable = body.kind === 'buffer' && (idempotent || body.data.length === 0);

  const headers = endToEndHeaders(request.headers);
  appendForwardedFor(headers, state.callerAddress);
  headers.traceparent = formatTraceparent(state.trace, state.serverSpanId);
  // Only a chunked body carries trailers (RFC 9112 §7.1.2). Chunked is asked for by name: left to
  // itself Node sends a GET or DELETE body with no framing at all, and a buffered body with a
  // Content-Length. A streamed body goes on framed as the caller framed it.
  const chunked = body.kind === 'stream' ? request.headers['transfer-encoding'] !== undefined : body.trailers.length > 0;
  if (chunked) {
    headers['transfer-encoding'] = 'chunked';
    const announced = announcedTrailers(request.headers);
    if (announced) headers.trailer = announced;
  } else if (body.kind === 'buffer' && body.data.length > 0) headers['content-length'] = body.data.length;
  const upstreamPath = originForm(state.target);

  const deadline = settings.timeoutMs > 0 ? performance.now() + settings.timeoutMs : Infinity;
  let previous: Replica | undefined;
  let staleResendUsed = false;
  let result: AttemptResult | undefined;
  for (let attemptNumber = 1; attemptNumber <= settings.retries.attempts; attemptNumber++) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      outcome.error = `no response within ${settings.timeoutMs} ms`;
      answer(response, 504, `mesh: ${outcome.error}`);
      return;
    }
    const replica = context.replicas.pick(previous);
    previous = replica;
    outcome.attempts++;
    outcome.upstream = replica.address;
    context.counters.attempts++;
    const timeoutMs = Math.min(settings.attemptTimeoutMs > 0 ? settings.attemptTimeoutMs : Infinity, remaining);
    const pending = attempt({
      replica, agent: context.agent, method, path: upstreamPath, headers, body, source: request,
      timeoutMs: Number.isFinite(timeoutMs) ? Math.max(1, Math.ceil(timeoutMs)) : 0, signal,
    });
    // A streamed body is now piped upstream: from here a stalled caller is timed.
    if (withBody && body.kind === 'stream' && !bodyWatched) bodyWatched = watchRequestBody(context, request, response, state);
    if (duplicate && outcome.attempts === 1) {
      outcome.faults.push(duplicate.toxic.name);
      if (replayable) sendDuplicate(context, { method, path: upstreamPath, headers, body, source: request }, state.body, outcome);
      else outcome.error = `duplicate skipped: body over ${context.maxBodyBufferBytes} bytes or over the proxy's buffer budget`;
    }
    result = await pending;
    if (signal.cancelled) {
      if (result.ok) result.response.destroy();
      return;
    }
    const mayRetry = replayable && idempotent && attemptNumber < settings.retries.attempts;
    if (result.ok) {
      const status = result.response.statusCode ?? 502;
      if (status === 502 || status === 503 || status === 504) context.replicas.failed(replica);
      else context.replicas.succeeded(replica);
      if (mayRetry && settings.retries.onStatus.includes(status) && context.budget.tryRetry()) {
        discard(context, result.response);
        context.counters.retries++;
        await backoff(context, attemptNumber, signal);
        continue;
      }
      break;
    }
    context.counters.upstreamErrors++;
    // A kept-alive socket the upstream had just closed: the request most likely never reached it.
    // Sent again once, if that is safe, and charged to the retry budget so an upstream that resets
    // every reused socket cannot double its load.
    if (result.staleSocket && result.kind === 'reset' && resendable && !staleResendUsed && context.budget.tryRetry()) {
      staleResendUsed = true;
      context.counters.staleResends++;
      attemptNumber--;
      continue;
    }
    context.replicas.failed(replica);
    if (mayRetry && settings.retries.onErrors.includes(result.kind) && context.budget.tryRetry()) {
      context.counters.retries++;
      await backoff(context, attemptNumber, signal);
      continue;
    }
    break;
  }
  if (!result) return;
  if (!result.ok) {
    outcome.error = `${result.kind}: ${result.error.message}`;
    answer(response, result.kind === 'timeout' ? 504 : 502, `mesh: upstream ${outcome.upstream ?? ''} ${outcome.error}`);
    return;
  }
  await deliver(context, result.response, response, state);
}

/** Pause before retry number `retry`: exponential with full jitter. */
function backoff(context: ForwardContext, retry: number, signal: Cancel): Promise<boolean> {
  if (context.resilience.retries.backoffMs <= 0) return Promise.resolve(true);
  return sleep(backoffDelayMs(context.resilience, context.random, retry), [signal]);
}

/**
 * Passes an upgrade (WebSocket) through to a replica in turn. The handshake takes the message
 * faults as a request does, in both directions, before it reaches the replica: delays, a drop
 * (reset, or hang), an abort (the caller gets the status and no upgrade). A duplicate does not
 * apply (a connection cannot be delivered twice) and is counted as skipped. After the 101 the
 * proxy passes frames as bytes: no fault applies to them.
 */
export function forwardUpgrade(context: ForwardContext, request: IncomingMessage, socket: Socket, head: Buffer, onUpstream: (upstream: Socket) => void): void {
  const arrival = arrive(context, request);
  const { trace, serverSpanId, callerAddress, plan, outcome } = arrival;
  context.counters.upgrades++;
  const record = (status: number): void => recordArrival(context, arrival, status);
  const connect = (): void => {
    const replica = context.replicas.pick();
    outcome.attempts = 1;
    outcome.upstream = replica.address;
    const forwardedFor = request.headers['x-forwarded-for'];
    const overrides = {
      'x-forwarded-for': forwardedFor ? `${Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor}, ${callerAddress}` : callerAddress,
      traceparent: formatTraceparent(trace, serverSpanId),
    };
    const upstream = passUpgrade({
      request, socket, head, replica, overrides,
      onStatus: (status) => {
        if (status === 101) context.replicas.succeeded(replica);
        else if (status === 0 || status >= 502) context.replicas.failed(replica);
        record(status);
      },
      onClosed: () => undefined,
    });
    onUpstream(upstream);
  };
  if (!plan) {
    connect();
    return;
  }
  applyUpgradeFaults(context, plan, socket, outcome).then(
    (status) => {
      if (status === undefined) connect();
      else record(status);
    },
    () => {
      resetSocket(socket);
      record(0);
    },
  );
}

/**
 * Applies a handshake's faults, upstream then downstream. Resolves undefined when the upgrade
 * goes on, else the status the caller got (0: none, the connection was reset or went away).
 */
async function applyUpgradeFaults(context: ForwardContext, plan: FaultPlan, socket: Socket, outcome: Outcome): Promise<number | undefined> {
  const gone = new Cancel();
  socket.once('close', () => gone.cancel());
  // Nothing is read while the faults act (passUpgrade's pipe resumes it): a caller sends no frame before its 101.
  socket.pause();
  if (plan.upstream.duplicate ?? plan.downstream.duplicate) context.counters.duplicatesSkipped++;
  for (const faults of [plan.upstream, plan.downstream]) {
    await applyDelays(context, faults, outcome, gone);
    if (faults.drop && (await applyDrop(context, faults.drop, socket, outcome, gone))) return 0;
    if (faults.abort) {
      const { toxic, attributes } = faults.abort;
      outcome.faults.push(toxic.name);
      outcome.error = `aborted by ${toxic.name}`;
      const body = `mesh: aborted by fault ${toxic.name}\n`;
      socket.end(`HTTP/1.1 ${attributes.status} ${STATUS_CODES[attributes.status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-flotilla-mesh: proxy\r\nconnection: close\r\n\r\n${body}`);
      return attributes.status;
    }
    if (gone.cancelled) return 0;
  }
  return undefined;
}
