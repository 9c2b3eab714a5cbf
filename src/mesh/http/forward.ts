/**
 * The work done for one HTTP request: plan the message faults (a snapshot at arrival), apply the
 * upstream ones, read the body only if a retry or a duplicate needs it, try replicas under the
 * resilience settings, apply the downstream faults to the answer, stream it back, record telemetry.
 */
import type http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { attempt, type AttemptResult } from './attempt.js';
import { Cancel } from './cancel.js';
import { EMPTY_BODY, hasBody, readBody, type BodySource } from './body.js';
import { appendForwardedFor, endToEndHeaders, plainIp } from './headers.js';
import type { HttpCounters } from './http-proxy.js';
import { planFaults, type ChosenFault, type DirectionFaults, type FaultPlan, type HttpDropAttributes } from './message-toxics.js';
import type { Replica, ReplicaSet } from './replicas.js';
import { isRetryable, type ResilienceSettings, type RetryBudget } from './resilience.js';
import { pathOf, routeOf } from './route.js';
import type { MeshTelemetry } from './telemetry/recorder.js';
import { formatTraceparent, newSpanId, readTraceparent, type TraceContext } from './trace-context.js';
import { passUpgrade } from './upgrade.js';
import type { Toxic } from '../toxic-collection.js';

/** What the proxy shares with each request. Fields change between requests, never during one. */
export interface ForwardContext {
  resilience: ResilienceSettings;
  replicas: ReplicaSet;
  budget: RetryBudget;
  agent: http.Agent;
  telemetry: MeshTelemetry;
  resolveCaller: (ip: string) => string;
  maxBodyBufferBytes: number;
  random: () => number;
  /** The proxy's message toxics, in chain order; replaced (never mutated) on change. */
  messageToxics: readonly Toxic[];
  /** Per toxic name: cancelled when the toxic is updated or removed, releasing delays and hangs it holds. */
  releases: Map<string, Cancel>;
  counters: HttpCounters;
  /** Cancelled when the proxy is disabled (duplicates in flight stop). */
  closing: Cancel;
}

/** What one request came to, for telemetry. */
interface Outcome {
  attempts: number;
  upstream: string | undefined;
  error: string | undefined;
  faults: string[];
}

/** Wall-clock now in Unix nanoseconds (ms precision plus the monotonic clock's fraction). */
function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

/** Origin-form target for the upstream: an absolute-form target keeps only its path and query. */
function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  const path = pathOf(target);
  const query = target.indexOf('?');
  return query >= 0 ? path + target.slice(query) : path;
}

/** The toxic's release, made on first use. */
function releaseOf(context: ForwardContext, toxic: Toxic): Cancel {
  let release = context.releases.get(toxic.name);
  if (!release) {
    release = new Cancel();
    context.releases.set(toxic.name, release);
  }
  return release;
}

/** Waits `ms`, or less if any of `cancels` fires; resolves true if the full time passed. */
function sleep(ms: number, cancels: readonly Cancel[]): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const removers: (() => void)[] = [];
    let settled = false;
    const done = (full: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const remove of removers) remove();
      resolve(full);
    };
    const timer = setTimeout(() => done(true), ms);
    for (const cancel of cancels) removers.push(cancel.onCancel(() => done(false)));
  });
}

/** Applies the delays of one direction, in chain order. */
async function applyDelays(context: ForwardContext, faults: DirectionFaults, outcome: Outcome, signal: Cancel): Promise<void> {
  for (const { toxic, attributes } of faults.delays) {
    const jitter = attributes.jitter_ms > 0 ? (context.random() * 2 - 1) * attributes.jitter_ms : 0;
    outcome.faults.push(toxic.name);
    await sleep(Math.max(0, attributes.delay_ms + jitter), [signal, releaseOf(context, toxic)]);
  }
}

/**
 * Applies an `http_drop`: `reset` resets the caller's connection at once; `hang` holds the request
 * until the caller gives up, `max_hang_ms` passes (then resets), or the toxic is removed or updated
 * (then the request goes on normally). Resolves true if the request was dropped.
 */
async function applyDrop(context: ForwardContext, drop: ChosenFault<HttpDropAttributes>, response: ServerResponse, outcome: Outcome, signal: Cancel): Promise<boolean> {
  outcome.faults.push(drop.toxic.name);
  if (drop.attributes.mode === 'hang') {
    const release = releaseOf(context, drop.toxic);
    const full = await sleep(drop.attributes.max_hang_ms, [signal, release]);
    if (!full && release.cancelled && !signal.cancelled) return false;
  }
  outcome.error = `dropped by ${drop.toxic.name}`;
  resetCaller(response);
  return true;
}

/** Resets the caller's connection (TCP RST). */
function resetCaller(response: ServerResponse): void {
  const socket = response.socket;
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Answers with a short plain-text error from the proxy itself. */
function answer(response: ServerResponse, status: number, message: string): void {
  if (response.headersSent || response.destroyed) {
    response.destroy();
    return;
  }
  const body = `${message}\n`;
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-flotilla-mesh': 'proxy' });
  response.end(body);
}

/** Handles one request; never throws (a failure answers 502 or resets). */
export function forwardRequest(context: ForwardContext, request: IncomingMessage, response: ServerResponse): void {
  const started = performance.now();
  const startNs = wallClockNs();
  const method = request.method ?? 'GET';
  const target = request.url ?? '/';
  const path = pathOf(target);
  const callerAddress = plainIp(request.socket.remoteAddress);
  const trace = readTraceparent(request.headers.traceparent);
  const clientSpanId = newSpanId();
  const serverSpanId = newSpanId();
  const outcome: Outcome = { attempts: 0, upstream: undefined, error: undefined, faults: [] };
  const toxics = context.messageToxics;
  const plan = toxics.length === 0 ? undefined : planFaults(toxics, { method, path, headers: request.headers }, context.random);
  const counters = context.counters;
  counters.requests++;
  counters.active++;
  // Cancelled when the caller goes away (disabling the proxy destroys every caller's socket).
  const gone = new Cancel();
  response.once('close', () => {
    counters.active--;
    if (!response.writableFinished) {
      gone.cancel();
      outcome.error ??= 'the response was not completed';
    }
    if (outcome.faults.length > 0) counters.faulted++;
    context.telemetry.record({
      caller: context.resolveCaller(callerAddress),
      callerAddress,
      method,
      route: routeOf(target),
      status: response.headersSent ? response.statusCode : 0,
      attempts: outcome.attempts,
      startTimeUnixNano: startNs,
      durationNs: BigInt(Math.round((performance.now() - started) * 1e6)),
      traceId: trace.traceId,
      parentSpanId: trace.parentSpanId,
      clientSpanId,
      serverSpanId,
      upstream: outcome.upstream,
      error: outcome.error,
      faults: outcome.faults,
    });
  });
  run(context, request, response, { method, target, trace, serverSpanId, callerAddress, plan, outcome, signal: gone }).catch((error: unknown) => {
    outcome.error = error instanceof Error ? error.message : String(error);
    answer(response, 502, `mesh: ${outcome.error}`);
  });
}

interface RequestState {
  method: string;
  target: string;
  trace: TraceContext;
  serverSpanId: string;
  callerAddress: string;
  plan: FaultPlan | undefined;
  outcome: Outcome;
  signal: Cancel;
}

async function run(context: ForwardContext, request: IncomingMessage, response: ServerResponse, state: RequestState): Promise<void> {
  const { plan, outcome, signal, method } = state;
  const settings = context.resilience;
  context.budget.recordRequest();

  if (plan) {
    const up = plan.upstream;
    await applyDelays(context, up, outcome, signal);
    if (up.drop && (await applyDrop(context, up.drop, response, outcome, signal))) return;
    if (up.abort) {
      outcome.faults.push(up.abort.toxic.name);
      outcome.error = `aborted by ${up.abort.toxic.name}`;
      answer(response, up.abort.attributes.status, `mesh: aborted by fault ${up.abort.toxic.name}`);
      return;
    }
    if (signal.cancelled) return;
  }

  const duplicate = plan?.upstream.duplicate ?? plan?.downstream.duplicate;
  const retryable = settings.retries.attempts > 1 && isRetryable(method, request.headers);
  let body: BodySource = EMPTY_BODY;
  if (hasBody(request)) body = duplicate || retryable ? await readBody(request, context.maxBodyBufferBytes) : { kind: 'stream', prefix: [] };
  const replayable = body.kind === 'buffer';

  const headers = endToEndHeaders(request.headers);
  appendForwardedFor(headers, state.callerAddress);
  headers.traceparent = formatTraceparent(state.trace, state.serverSpanId);
  if (body.kind === 'buffer' && body.data.length > 0) headers['content-length'] = body.data.length;
  const upstreamPath = originForm(state.target);

  const deadline = settings.timeoutMs > 0 ? performance.now() + settings.timeoutMs : Infinity;
  let previous: Replica | undefined;
  let staleRetryUsed = false;
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
    if (duplicate && outcome.attempts === 1) {
      outcome.faults.push(duplicate.toxic.name);
      if (replayable) sendDuplicate(context, { method, path: upstreamPath, headers, body, source: request });
      else outcome.error = `duplicate skipped: body over ${context.maxBodyBufferBytes} bytes`;
    }
    result = await pending;
    if (signal.cancelled) {
      if (result.ok) result.response.destroy();
      return;
    }
    const mayRetry = replayable && isRetryable(method, request.headers) && attemptNumber < settings.retries.attempts;
    if (result.ok) {
      const status = result.response.statusCode ?? 502;
      if (status === 502 || status === 503 || status === 504) context.replicas.failed(replica);
      else context.replicas.succeeded(replica);
      if (mayRetry && settings.retries.onStatus.includes(status) && context.budget.tryRetry()) {
        result.response.resume();
        context.counters.retries++;
        await backoff(context, attemptNumber, signal);
        continue;
      }
      break;
    }
    context.counters.upstreamErrors++;
    // A kept-alive socket the upstream had just closed: the request never reached it; once, for free.
    if (result.staleSocket && result.kind === 'reset' && replayable && isRetryable(method, request.headers) && !staleRetryUsed) {
      staleRetryUsed = true;
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
  const base = context.resilience.retries.backoffMs;
  if (base <= 0) return Promise.resolve(true);
  return sleep(context.random() * base * 2 ** (retry - 1), [signal]);
}

/** The second delivery of an `http_duplicate`: sent to a replica in turn; its answer is read and dropped. */
function sendDuplicate(context: ForwardContext, request: { method: string; path: string; headers: OutgoingHttpHeaders; body: BodySource; source: IncomingMessage }): void {
  context.counters.duplicates++;
  context.counters.attempts++;
  const replica = context.replicas.pick();
  void attempt({ ...request, replica, agent: context.agent, timeoutMs: context.resilience.attemptTimeoutMs, signal: context.closing }).then((result) => {
    if (result.ok) result.response.resume();
  });
}

/** Applies the downstream faults to the upstream's answer, then streams it to the caller. */
async function deliver(context: ForwardContext, upstream: IncomingMessage, response: ServerResponse, state: RequestState): Promise<void> {
  const { plan, outcome, signal } = state;
  if (plan) {
    const down = plan.downstream;
    await applyDelays(context, down, outcome, signal);
    if (down.drop && (await applyDrop(context, down.drop, response, outcome, signal))) {
      upstream.destroy();
      return;
    }
    if (down.abort) {
      upstream.resume();
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
  upstream.on('error', () => response.destroy());
  upstream.once('close', () => {
    if (upstream.complete) return;
    outcome.error = 'the upstream closed before the end of its answer';
    response.destroy();
  });
  response.once('close', () => {
    if (!upstream.complete) upstream.destroy();
  });
  upstream.pipe(response);
}

/** Passes an upgrade (WebSocket) through to a replica in turn. */
export function forwardUpgrade(context: ForwardContext, request: IncomingMessage, socket: Socket, head: Buffer, onUpstream: (upstream: Socket) => void): void {
  const started = performance.now();
  const startNs = wallClockNs();
  const callerAddress = plainIp(request.socket.remoteAddress);
  const trace = readTraceparent(request.headers.traceparent);
  const serverSpanId = newSpanId();
  const clientSpanId = newSpanId();
  const replica = context.replicas.pick();
  const forwardedFor = request.headers['x-forwarded-for'];
  const overrides = {
    'x-forwarded-for': forwardedFor ? `${Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor}, ${callerAddress}` : callerAddress,
    traceparent: formatTraceparent(trace, serverSpanId),
  };
  context.counters.upgrades++;
  const upstream = passUpgrade({
    request, socket, head, replica, overrides,
    onStatus: (status) => {
      if (status === 101) context.replicas.succeeded(replica);
      else if (status === 0 || status >= 502) context.replicas.failed(replica);
      context.telemetry.record({
        caller: context.resolveCaller(callerAddress),
        callerAddress,
        method: request.method ?? 'GET',
        route: routeOf(request.url ?? '/'),
        status,
        attempts: 1,
        startTimeUnixNano: startNs,
        durationNs: BigInt(Math.round((performance.now() - started) * 1e6)),
        traceId: trace.traceId,
        parentSpanId: trace.parentSpanId,
        clientSpanId,
        serverSpanId,
        upstream: replica.address,
      });
    },
    onClosed: () => undefined,
  });
  onUpstream(upstream);
}
