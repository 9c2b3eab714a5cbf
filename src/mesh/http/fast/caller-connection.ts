/**
 * A caller's connection on the fast lane: request heads read from the byte stream, each request's
 * body gathered, then one exchange at a time, kept alive between them. A request the fast lane does
 * not carry — a message fault is set, an upgrade, Expect, a chunked or large body, HTTP/1.0, or a
 * head this parser does not fully understand — hands the connection, from that request's first byte,
 * to the proxy's Node HTTP server for good: one connection never has two readers.
 */
import type { Socket } from 'node:net';
import { plainIp } from '../headers.js';
import { Deadline } from './deadline.js';
import { Exchange, type CallerSide, type FastLaneContext } from './exchange.js';
import { headText, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './head.js';

/** Node's answer to a caller too slow to send its request. */
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** The release of a request without a body (most of them): nothing was taken from the budget. */
const NOTHING_HELD = (): void => undefined;

/** Bytes read ahead (pipelined requests) before the caller's socket is paused. */
const MAX_READ_AHEAD = 64 * 1024;

/** What a caller connection needs from its proxy. */
export interface FastLane extends FastLaneContext {
  /** Gives the connection to the Node HTTP path; `buffered` are the bytes read but not handled, from a request's start. */
  handOff(socket: Socket, buffered: Buffer | undefined): void;
  /** How long a kept-alive caller connection may stay silent. */
  keepAliveTimeoutMs: number;
  /** How long a caller may take to send a request head, from its first byte. */
  headersTimeoutMs: number;
  /** How long a caller may take to send a whole request, head and body; 0 for no bound. */
  requestTimeoutMs: number;
  /**
   * Whether this proxy serves a request naming `host`: false on a port shared with other services
   * for a host that is another's (the Node path then answers 421). Absent: every host is served.
   */
  servesHost?: (host: string) => boolean;
}

type State = 'idle' | 'body' | 'busy' | 'closed';

/** Serves one caller connection until it closes or is handed off. */
export class CallerConnection implements CallerSide {
  readonly address: string;
  onDrain: (() => void) | undefined;
  readonly deadline = new Deadline();
  private state: State = 'idle';
  /** `performance.now()` at the first byte of the request being read; 0 between requests. */
  private requestStartedAt = 0;
  private pending: Buffer | undefined;
  /** The request in flight, if any. */
  private exchange: Exchange | undefined;
  /** The socket's timeout now: changed only when it must, as each change costs a timer. */
  private timeoutMs: number;
  // The request whose body is being gathered.
  private body: { head: RequestHead; data: Buffer; filled: number } | undefined;
  private readonly onData = (chunk: Buffer): void => this.received(chunk);
  private readonly onEnd = (): void => this.callerEnded();
  private readonly onTimeout = (): void => this.timedOut();
  private readonly onDrained = (): void => this.onDrain?.();
  private readonly onClose = (): void => this.closed();

  constructor(
    private readonly socket: Socket,
    private readonly lane: FastLane,
  ) {
    this.address = plainIp(socket.remoteAddress);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onTimeout);
    socket.on('drain', this.onDrained);
    socket.on('close', this.onClose);
    socket.on('error', () => undefined); // followed by close
    // The keep-alive timeout stays armed through requests (a request in flight ignores it), so the
    // common exchange costs no timer change.
    this.timeoutMs = lane.keepAliveTimeoutMs;
    socket.setTimeout(this.timeoutMs);
  }

  write(data: string | Buffer): boolean {
    if (this.socket.destroyed) return true;
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  finished(close: boolean): void {
    if (this.state === 'closed') return;
    this.onDrain = undefined;
    if (close) {
      this.state = 'closed';
      this.socket.end();
      this.socket.destroySoon();
      return;
    }
    this.state = 'idle';
    this.exchange = undefined;
    if (this.socket.isPaused()) this.socket.resume();
    this.next();
  }

  private received(chunk: Buffer): void {
    if (this.state === 'body') {
      this.gather(chunk, 0);
      return;
    }
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.state === 'idle') this.next();
    else if (this.pending.length > MAX_READ_AHEAD) this.socket.pause();
  }

  /** Starts the next request in the bytes read, if its head is all there. */
  private next(): void {
    const pending = this.pending;
    if (!pending || pending.length === 0) {
      this.pending = undefined;
      return;
    }
    const text = headText(pending);
    // Node answers a head too large with 431.
    if (text === undefined ? pending.length > MAX_HEAD_BYTES : text.length + 2 > MAX_HEAD_BYTES) {
      this.handOff();
      return;
    }
    if (text === undefined) {
      // A deadline from the head's first byte, not an idle timer: a caller dribbling its head one
      // byte at a time is cut off as Node cuts it off. The idle timer catches a caller gone silent.
      if (this.requestStartedAt === 0) this.requestStartedAt = performance.now();
      else if (performance.now() - this.requestStartedAt > this.lane.headersTimeoutMs) {
        this.closeWith(REQUEST_TIMEOUT);
        return;
      }
      this.setTimeoutMs(this.lane.headersTimeoutMs);
      return;
    }
    const end = text.length + 2;
    const context = this.lane.context;
    const head = context.messageToxics.length === 0 ? parseRequestHead(text) : undefined;
    if (!head || (this.lane.servesHost && !this.lane.servesHost(head.host)) || head.contentLength > context.maxBodyBufferBytes || !context.bodyBudget.take(head.contentLength)) {
      this.handOff();
      return;
    }
    this.setTimeoutMs(this.lane.keepAliveTimeoutMs);
    const available = pending.length - end;
    if (available >= head.contentLength) {
      const data = head.contentLength === 0 ? undefined : pending.subarray(end, end + head.contentLength);
      this.pending = available > head.contentLength ? pending.subarray(end + head.contentLength) : undefined;
      this.startExchange(head, data);
      return;
    }
    this.pending = undefined;
    this.state = 'body';
    this.requestStartedAt ||= performance.now();
    this.body = { head, data: Buffer.allocUnsafe(head.contentLength), filled: 0 };
    // No idle bound when the settings give none (0): the request timeout still applies.
    this.setTimeoutMs(context.requestBodyIdleTimeoutMs);
    this.gather(pending, end);
  }

  /** Adds body bytes from `chunk` at `offset`; starts the exchange once the body is whole. */
  private gather(chunk: Buffer, offset: number): void {
    const body = this.body!;
    const used = Math.min(chunk.length - offset, body.data.length - body.filled);
    chunk.copy(body.data, body.filled, offset, offset + used);
    body.filled += used;
    if (body.filled < body.data.length) {
      const limitMs = this.lane.requestTimeoutMs;
      if (limitMs > 0 && performance.now() - this.requestStartedAt > limitMs) this.closeWith(REQUEST_TIMEOUT);
      return;
    }
    this.body = undefined;
    this.setTimeoutMs(this.lane.keepAliveTimeoutMs);
    if (offset + used < chunk.length) this.pending = chunk.subarray(offset + used);
    this.startExchange(body.head, body.data);
  }

  /** Starts the exchange of a request, its body in hand. */
  private startExchange(head: RequestHead, data: Buffer | undefined): void {
    this.state = 'busy';
    this.requestStartedAt = 0;
    this.exchange = new Exchange(this.lane, this, head, data, head.contentLength === 0 ? NOTHING_HELD : this.bodyRelease(head.contentLength));
    this.exchange.start();
  }

  /** Gives the bytes a body held back to the budget, once. */
  private bodyRelease(held: number): () => void {
    const budget = this.lane.context.bodyBudget;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      budget.give(held);
    };
  }

  private handOff(): void {
    const socket = this.socket;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('timeout', this.onTimeout);
    socket.off('drain', this.onDrained);
    socket.off('close', this.onClose);
    socket.setTimeout(0);
    this.deadline.dispose();
    this.state = 'closed';
    const pending = this.pending;
    this.pending = undefined;
    this.lane.handOff(socket, pending);
  }

  /**
   * The caller closed its side. As Node's HTTP server does (and nginx, which logs it as 499), the
   * caller is taken to be gone: a request in flight is given up and its upstream connection closed.
   */
  private callerEnded(): void {
    if (this.state === 'idle') {
      this.state = 'closed';
      this.socket.end();
    } else this.socket.destroy();
  }

  private timedOut(): void {
    // A request in flight: the caller waits for the proxy, and is not the slow one.
    if (this.state === 'busy') return;
    if (this.state === 'body') {
      const message = `mesh: the caller's request body stalled for ${this.lane.context.requestBodyIdleTimeoutMs} ms\n`;
      this.closeWith(`HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(message)}\r\nconnection: close\r\n\r\n${message}`);
    } else if (this.state === 'idle') {
      // A partial head is a slow caller (408, as Node answers); a silent kept-alive connection just closes.
      if (this.pending) this.closeWith(REQUEST_TIMEOUT);
      else this.socket.destroy();
    }
  }

  private closeWith(answer: string): void {
    this.state = 'closed';
    this.socket.end(answer);
    this.socket.destroySoon();
  }

  private closed(): void {
    if (this.body) {
      this.lane.context.bodyBudget.give(this.body.head.contentLength);
      this.body = undefined;
    }
    this.state = 'closed';
    const exchange = this.exchange;
    this.exchange = undefined;
    exchange?.callerGone();
    this.deadline.dispose();
  }

  private setTimeoutMs(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }
}
