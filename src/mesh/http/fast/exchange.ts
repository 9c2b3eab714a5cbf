/**
 * One request on the fast lane, from a complete request (head and body in hand) to the end of its
 * answer: replicas tried under the resilience settings (timeouts, budgeted retries, ejection, one
 * resend on a kept-alive connection the upstream had closed), then the answer's bytes streamed to
 * the caller as they come, with back-pressure both ways. The same rules as forward.ts, on raw
 * sockets: no message faults run here — a request meeting one takes the Node path instead.
 */
import { STATUS_CODES } from 'node:http';
import { classifyError } from '../attempt.js';
import type { ForwardContext } from '../forward-context.js';
import type { Replica } from '../replicas.js';
import { backoffDelayMs, isRetryable, type AttemptErrorKind } from '../resilience.js';
import { routeOf } from '../route.js';
import { formatTraceparent, newSpanId, readTraceparent, wallClockNs, type TraceContext } from '../trace-context.js';
import { sampleTrace } from '../telemetry/recorder.js';
import type { Deadline, DeadlineHolder } from './deadline.js';
import { BodyFramer, responseFraming } from './framing.js';
import { callerResponse, headText, MAX_HEAD_BYTES, parseResponseHead, upstreamRequest, type RequestHead } from './head.js';
import type { UpstreamConnection, UpstreamListener, UpstreamPool } from './upstream-pool.js';

/** The caller's side of an exchange, as the caller connection offers it. */
export interface CallerSide {
  readonly address: string;
  /** Writes to the caller; false when its buffer is full (wait for `onDrain`). */
  write(data: string | Buffer): boolean;
  /** The exchange is over; `close` when the caller connection must close now. */
  finished(close: boolean): void;
  /** Set by the exchange while it waits for the caller to read. */
  onDrain: (() => void) | undefined;
  /** Closes the caller connection at once (an answer that cannot be completed). */
  destroy(): void;
  /** The attempt deadline of the connection's exchange in flight. */
  readonly deadline: Deadline;
}

/** What the fast lane shares with its exchanges. */
export interface FastLaneContext {
  context: ForwardContext;
  pool: UpstreamPool;
}

type Phase = 'connecting' | 'head' | 'body' | 'over';

// What isRetryable reads of a request's fields, made once rather than per request.
const WITH_IDEMPOTENCY_KEY: Readonly<Record<string, unknown>> = { 'idempotency-key': true };
const NO_FIELDS: Readonly<Record<string, unknown>> = {};

/** One request through the fast lane; `start()` sends it. */
export class Exchange implements UpstreamListener, DeadlineHolder {
  private readonly started = performance.now();
  private readonly trace: TraceContext;
  private readonly sampled: boolean;
  private readonly serverSpanId = newSpanId();
  private readonly clientSpanId = newSpanId();
  /** The request head as sent upstream (latin1): kept for a retry, as `body` is. */
  private readonly request: string;
  private readonly idempotent: boolean;
  private readonly deadline: number;
  private phase: Phase = 'connecting';
  /** Attempts that count against the retry settings (a stale-socket resend does not). */
  private attempts = 0;
  /** Every request sent upstream, a stale-socket resend included: what telemetry records, and each attempt's identity. */
  private sent = 0;
  private previous: Replica | undefined;
  private connection: UpstreamConnection | undefined;
  private staleResendUsed = false;
  private timedOut = false;
  /** The attempt's timeout, for its message. */
  private attemptTimeoutMs = 0;
  /** The backoff before a retry. */
  private timer: NodeJS.Timeout | undefined;
  /** Leaves the pool's queue, while the attempt waits there for a connection. */
  private leaveQueue: (() => void) | undefined;
  private received: Buffer | undefined;
  private framer: BodyFramer | undefined;
  private status = 0;
  private headSent = false;
  private closeCaller: boolean;
  private error: string | undefined;
  private upstreamAddress: string | undefined;
  /** Whether the upstream connection may serve another request once this answer is over. */
  constructor(
    private readonly lane: FastLaneContext,
    private readonly caller: CallerSide,
    private readonly head: RequestHead,
    private readonly body: Buffer | undefined,
    private readonly releaseBody: () => void,
  ) {
    const context = lane.context;
    this.trace = readTraceparent(head.traceparent);
    this.sampled = sampleTrace(context.telemetry, this.trace);
    this.request = upstreamRequest(head, caller.address, formatTraceparent(this.trace, this.serverSpanId));
    this.idempotent = isRetryable(head.method, head.idempotencyKey ? WITH_IDEMPOTENCY_KEY : NO_FIELDS);
    this.deadline = context.resilience.timeoutMs > 0 ? this.started + context.resilience.timeoutMs : Infinity;
    this.closeCaller = head.close;
    context.counters.requests++;
    context.counters.active++;
    context.budget.recordRequest();
  }

  /** Sends the request to a first replica. */
  start(): void {
    // The first attempt starts as the exchange does: no second clock reading.
    this.tryReplica(this.started);
  }

  private get context(): ForwardContext {
    return this.lane.context;
  }

  private tryReplica(now = performance.now()): void {
    if (this.callerLeft) return;
    const settings = this.context.resilience;
    const remaining = this.deadline - now;
    if (remaining <= 0) {
      this.fail(504, `no response within ${settings.timeoutMs} ms`);
      return;
    }
    const replica = this.context.replicas.pick(this.previous);
    this.previous = replica;
    this.attempts++;
    this.sent++;
    this.upstreamAddress = replica.address;
    this.context.counters.attempts++;
    this.phase = 'connecting';
    this.timedOut = false;
    this.received = undefined;
    const timeoutMs = Math.min(settings.attemptTimeoutMs > 0 ? settings.attemptTimeoutMs : Infinity, remaining);
    const attempt = this.sent;
    if (Number.isFinite(timeoutMs)) {
      this.attemptTimeoutMs = timeoutMs;
      this.caller.deadline.set(now + Math.max(1, Math.ceil(timeoutMs)), this);
    }
    this.leaveQueue = this.lane.pool.acquire(replica, this, (connection) => this.send(connection, attempt), now);
  }

  /** The attempt's deadline passed. */
  deadlinePassed(): void {
    this.timedOut = true;
    // Sent: closing the connection fails the attempt (onClose). Still waiting for a connection: it fails here.
    if (this.connection) this.connection.socket.destroy();
    else {
      this.stopWaiting();
      this.attemptFailed('timeout', new Error(`no connection to ${this.upstreamAddress ?? ''} within ${Math.ceil(this.attemptTimeoutMs)} ms`), false);
    }
  }

  private stopWaiting(): void {
    this.leaveQueue?.();
    this.leaveQueue = undefined;
  }

  private send(connection: UpstreamConnection, attempt: number): void {
    this.leaveQueue = undefined;
    // A connection that comes after its attempt was given up goes back to the pool unused.
    if (this.callerLeft || this.phase !== 'connecting' || attempt !== this.sent || this.timedOut) {
      this.lane.pool.release(connection);
      return;
    }
    this.connection = connection;
    this.phase = 'head';
    const socket = connection.socket;
    if (!this.body) {
      socket.write(this.request, 'latin1');
      return;
    }
    // Head and body in one writev.
    socket.cork();
    socket.write(this.request, 'latin1');
    socket.write(this.body);
    socket.uncork();
  }

  onData(chunk: Buffer): void {
    if (this.phase === 'body') {
      this.pass(chunk);
      return;
    }
    if (this.phase !== 'head') return;
    this.readHead(this.received ? Buffer.concat([this.received, chunk]) : chunk);
  }

  /** Reads the response head at the start of `received`, which may be the pool's read buffer: what is kept is copied. */
  private readHead(received: Buffer): void {
    const text = headText(received);
    if (text === undefined) {
      if (received.length > MAX_HEAD_BYTES) this.protocolError(`a response head over ${MAX_HEAD_BYTES} bytes`);
      else this.received = Buffer.from(received);
      return;
    }
    this.received = received;
    const end = text.length + 2;
    const response = parseResponseHead(text);
    if (!response || response.status === 101) {
      this.protocolError('a malformed response head');
      return;
    }
    if (response.status < 200) {
      // An interim answer (103 Early Hints): passed on; the final one follows.
      this.caller.write(Buffer.from(received.subarray(0, end)));
      this.received = received.subarray(end);
      if (this.received.length > 0) this.readHead(this.received);
      return;
    }
    this.clearTimer();
    const context = this.context;
    const settings = context.resilience;
    const replica = this.connection!.replica;
    const status = response.status;
    if (status === 502 || status === 503 || status === 504) context.replicas.failed(replica);
    else context.replicas.succeeded(replica);
    if (this.mayRetry() && settings.retries.onStatus.includes(status) && context.budget.tryRetry()) {
      context.counters.retries++;
      this.dropConnection();
      this.retryAfterBackoff();
      return;
    }
    this.status = status;
    this.phase = 'body';
    this.framer = new BodyFramer(responseFraming(this.head.method, status, response));
    if (this.framer.untilClose || response.close) this.closeCaller = true;
    this.headSent = true;
    // The socket keeps its timeout between requests: set only when the settings changed it.
    const socket = this.connection!.socket;
    if (socket.timeout !== settings.bodyIdleTimeoutMs) socket.setTimeout(settings.bodyIdleTimeoutMs);
    this.reuseUpstream = !response.close;
    const framer = this.framer;
    const used = framer.take(received, end);
    const ready = this.caller.write(callerResponse(received, 0, response, this.closeCaller, used));
    this.afterWrite(received, end, used, ready);
  }

  private reuseUpstream = true;
  /** The caller went away: nothing more is sent or tried. */
  private callerLeft = false;

  /** Forwards the body bytes of `chunk`; finishes at the body's end. */
  private pass(chunk: Buffer): void {
    const used = this.framer!.take(chunk, 0);
    // A copy: `chunk` is the pool's read buffer, and the write may wait for the caller to read.
    const ready = used === 0 || this.caller.write(Buffer.from(chunk.subarray(0, used)));
    this.afterWrite(chunk, 0, used, ready);
  }

  private afterWrite(chunk: Buffer, offset: number, used: number, ready: boolean): void {
    const framer = this.framer!;
    if (framer.invalid) {
      this.error = 'the upstream broke the chunked framing of its answer';
      this.abandon();
      return;
    }
    // Bytes past the end of the answer: the connection is out of step and is not reused.
    if (offset + used < chunk.length) this.reuseUpstream = false;
    if (framer.done) this.complete();
    else if (!ready) this.waitForCaller();
  }

  private waitForCaller(): void {
    const socket = this.connection!.socket;
    socket.pause();
    this.caller.onDrain = () => {
      this.caller.onDrain = undefined;
      socket.resume();
      // Silence while the caller was slow to read was not the upstream's: the idle timer starts again.
      const idleMs = this.context.resilience.bodyIdleTimeoutMs;
      if (idleMs > 0) socket.setTimeout(idleMs);
    };
  }

  onTimeout(): void {
    if (this.phase !== 'body' || this.caller.onDrain) return;
    this.error = `the upstream's answer stalled for ${this.context.resilience.bodyIdleTimeoutMs} ms`;
    this.abandon();
  }

  onClose(error: NodeJS.ErrnoException | undefined): void {
    const connection = this.connection;
    this.connection = undefined;
    if (this.phase === 'body') {
      if (this.framer!.untilClose) this.complete();
      else {
        this.error ??= 'the upstream closed before the end of its answer';
        this.abandon();
      }
      return;
    }
    if (this.phase !== 'head' && this.phase !== 'connecting') return;
    this.clearTimer();
    if (this.callerLeft) return;
    const cause = error ?? Object.assign(new Error('the upstream closed the connection before answering'), { code: 'ECONNRESET' });
    this.attemptFailed(classifyError(cause, this.timedOut), cause, connection !== undefined && connection.reused && !this.timedOut && this.received === undefined);
  }

  private attemptFailed(kind: AttemptErrorKind, error: Error, staleSocket: boolean): void {
    const context = this.context;
    context.counters.upstreamErrors++;
    const resendable = this.idempotent || this.head.contentLength === 0;
    if (staleSocket && kind === 'reset' && resendable && !this.staleResendUsed && context.budget.tryRetry()) {
      this.staleResendUsed = true;
      context.counters.staleResends++;
      this.attempts--;
      this.previous = undefined;
      this.tryReplica();
      return;
    }
    if (this.previous) context.replicas.failed(this.previous);
    if (this.mayRetry() && context.resilience.retries.onErrors.includes(kind) && context.budget.tryRetry()) {
      context.counters.retries++;
      this.retryAfterBackoff();
      return;
    }
    const message = `${kind}: ${error.message}`;
    this.fail(kind === 'timeout' ? 504 : 502, `upstream ${this.upstreamAddress ?? ''} ${message}`, message);
  }

  private mayRetry(): boolean {
    return this.idempotent && this.attempts < this.context.resilience.retries.attempts;
  }

  private retryAfterBackoff(): void {
    this.phase = 'connecting';
    const delay = backoffDelayMs(this.context.resilience, this.context.random, this.attempts);
    if (delay <= 0) {
      this.tryReplica();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tryReplica();
    }, delay);
  }

  /** Answers the caller with an error of the proxy's own (the request is over). */
  private fail(status: number, message: string, error = message): void {
    this.error = error;
    this.status = status;
    const body = `mesh: ${message}\n`;
    this.headSent = true;
    this.caller.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-flotilla-mesh: proxy\r\n${this.closeCaller ? 'connection: close\r\n' : ''}\r\n${body}`,
    );
    this.end();
  }

  private protocolError(what: string): void {
    this.error = `the upstream sent ${what}`;
    this.dropConnection();
    this.fail(502, `upstream ${this.upstreamAddress ?? ''} sent ${what}`, this.error);
  }

  /** The answer is complete. */
  private complete(): void {
    this.caller.onDrain = undefined;
    const connection = this.connection;
    this.connection = undefined;
    // One clock reading for the pool and the request's duration.
    const now = performance.now();
    if (connection) {
      if (this.reuseUpstream && !connection.socket.isPaused()) this.lane.pool.release(connection, now);
      else connection.socket.destroy();
    }
    this.end(now);
  }

  /** The answer cannot be completed: both sides close. */
  private abandon(): void {
    this.dropConnection();
    this.closeCaller = true;
    if (this.phase !== 'over') {
      this.phase = 'over';
      this.caller.destroy();
      this.record();
    }
  }

  /** The caller's connection closed: the request is given up and its upstream connection closed. */
  callerGone(): void {
    this.callerLeft = true;
    this.stopWaiting();
    if (this.phase === 'over') return;
    this.error ??= 'the caller went away before the answer was complete';
    this.clearTimer();
    this.dropConnection();
    this.phase = 'over';
    this.record();
  }

  private dropConnection(): void {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      connection.holder = undefined;
      connection.socket.destroy();
    }
  }

  private clearTimer(): void {
    this.caller.deadline.clear(this);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private end(now?: number): void {
    this.stopWaiting();
    if (this.phase === 'over') return;
    this.phase = 'over';
    this.clearTimer();
    this.record(now);
    this.caller.finished(this.closeCaller);
  }

  private record(now = performance.now()): void {
    const context = this.context;
    context.counters.active--;
    this.releaseBody();
    const callerAddress = this.caller.address;
    context.telemetry.record({
      caller: context.resolveCaller(callerAddress),
      callerAddress,
      method: this.head.method,
      route: routeOf(this.head.target),
      status: this.headSent ? this.status : 0,
      attempts: this.sent,
      startTimeUnixNano: wallClockNs(this.started),
      durationNs: BigInt(Math.round((now - this.started) * 1e6)),
      traceId: this.trace.traceId,
      parentSpanId: this.trace.parentSpanId,
      clientSpanId: this.clientSpanId,
      serverSpanId: this.serverSpanId,
      upstream: this.upstreamAddress,
      error: this.error,
      sampled: this.sampled,
    });
  }
}
