/**
 * HTTP/1.1 message heads on the fast lane: found in a byte buffer, read for what the proxy needs
 * (framing, connection options, the fields it rewrites), and passed on as the same bytes minus the
 * hop-by-hop fields (RFC 9110 §7.6.1). The reader is strict on purpose: anything it does not fully
 * understand makes the request leave the fast lane for Node's own parser (llhttp), which answers
 * malformed input the way Node does, so the two paths never disagree about where a message ends.
 *
 * It allocates little and makes objects of one shape: it runs twice per proxied request.
 */

import { HOP_BY_HOP as NODE_HOP_BY_HOP } from '../headers.js';

/** Longest head accepted on the fast lane (Node's default `maxHeaderSize` is 16 KiB). */
export const MAX_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');

// The field lines of a head, whole: token names (RFC 9110 §5.6.2), values of visible characters,
// spaces and tabs, each line ended by CRLF. Anything else (obsolete folding, a bare CR or LF, a
// control character) fails it.
const FIELD_LINES = /^(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*\r\n)*$/;
// The methods the lane carries; others (CONNECT's tunnels, extension methods) are Node's to answer.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']);
// An origin-form target of visible ASCII only (no bare CR or LF, no control character, no space).
const TARGET = /^\/[!-~]*$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
// Digits between optional spaces and tabs only (trim() would also take a no-break space).
const CONTENT_LENGTH = /^[ \t]*(\d{1,15})[ \t]*$/;
/** Fields whose bytes say where a message ends: never dropped, whatever Connection names. */
const FRAMING = ['content-length', 'transfer-encoding'];

/**
 * Fields that never cross a proxy: the Node path's, but for Transfer-Encoding, which the lane passes
 * on because it passes the body's framing bytes on as they are.
 */
const HOP_BY_HOP = new Set([...NODE_HOP_BY_HOP].filter((name) => name !== 'transfer-encoding'));

/** What the fast lane reads from a request head. */
export interface RequestHead {
  method: string;
  /** Origin-form: starts with `/`. */
  target: string;
  /** Bytes of the head, the blank line included. */
  size: number;
  /** The body's length; 0 when there is none. */
  contentLength: number;
  /** The caller asked to close the connection after this exchange. */
  close: boolean;
  traceparent: string | undefined;
  /** X-Forwarded-For as received, all its fields joined. */
  forwardedFor: string | undefined;
  idempotencyKey: boolean;
  /** The head's bytes to pass on: [start, end) pairs, the final blank line excluded. */
  keep: number[];
}

/** What the fast lane reads from a response head. */
export interface ResponseHead {
  status: number;
  http10: boolean;
  size: number;
  /** Length from Content-Length; -1 when absent (or overridden by Transfer-Encoding). */
  contentLength: number;
  chunked: boolean;
  /** The upstream will close (Connection: close, HTTP/1.0 without keep-alive, or a body read until close). */
  close: boolean;
  /** The head's bytes to pass on: [start, end) pairs, the final blank line excluded. */
  keep: number[];
}

/** Where the head starting at `from` ends (the index past its blank line), or -1 when it is not all there yet. */
export function headEnd(buffer: Buffer, from: number): number {
  const at = buffer.indexOf(HEAD_END, from);
  return at < 0 ? -1 : at + 4;
}

/**
 * One pass over a head's field lines: calls `field` with each lower-cased name, its trimmed value and the value as received,
 * and returns the byte ranges to keep (the start line always; a field line unless `field` returns
 * false). Undefined when the field lines are malformed.
 */
function scanFields(text: string, fieldsStart: number, field: (name: string, value: string, raw: string) => boolean): number[] | undefined {
  if (!FIELD_LINES.test(text.slice(fieldsStart))) return undefined;
  const keep = [0, fieldsStart];
  let at = fieldsStart;
  while (at < text.length) {
    const lineEnd = text.indexOf('\r\n', at);
    const next = lineEnd + 2;
    const colon = text.indexOf(':', at);
    const raw = text.slice(colon + 1, lineEnd);
    if (field(text.slice(at, colon).toLowerCase(), raw.trim(), raw)) {
      // Kept: the range ending here grows, or a new one starts after a dropped line.
      if (keep[keep.length - 1] === at) keep[keep.length - 1] = next;
      else keep.push(at, next);
    }
    at = next;
  }
  return keep;
}

/** Adds the names in a Connection value to `into`. */
/** A Content-Length value as a number; -2 when it is not one. */
function lengthOf(raw: string): number {
  const match = CONTENT_LENGTH.exec(raw);
  return match ? Number(match[1]) : -2;
}

function addConnectionOptions(value: string, into: Set<string>): void {
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name) into.add(name);
  }
}

/** Drops the ranges' field lines named in Connection, found after the scan (they may come before it). */
function dropNamed(text: string, keep: number[], named: Set<string>): number[] {
  const out: number[] = [];
  for (let i = 0; i < keep.length; i += 2) {
    let start = keep[i]!;
    const end = keep[i + 1]!;
    let at = i === 0 ? text.indexOf('\r\n') + 2 : start;
    while (at < end) {
      const lineEnd = text.indexOf('\r\n', at);
      const name = text.slice(at, text.indexOf(':', at)).toLowerCase();
      if (named.has(name)) {
        if (at > start) out.push(start, at);
        start = lineEnd + 2;
      }
      at = lineEnd + 2;
    }
    if (end > start) out.push(start, end);
  }
  return out;
}

/**
 * The request head between `from` and `end`, when the fast lane can carry it: HTTP/1.1, an
 * origin-form target, no Transfer-Encoding, no Upgrade, no Expect. Undefined otherwise.
 */
export function parseRequestHead(buffer: Buffer, from: number, end: number): RequestHead | undefined {
  const text = buffer.toString('latin1', from, end - 2);
  const lineEnd = text.indexOf('\r\n');
  const firstSpace = text.indexOf(' ');
  const lastSpace = text.lastIndexOf(' ', lineEnd);
  if (firstSpace <= 0 || lastSpace <= firstSpace || text.slice(lastSpace + 1, lineEnd) !== 'HTTP/1.1') return undefined;
  const method = text.slice(0, firstSpace);
  const target = text.slice(firstSpace + 1, lastSpace);
  if (!METHODS.has(method) || !TARGET.test(target)) return undefined;
  let contentLength = -1;
  let unsupported = false;
  let traceparent: string | undefined;
  let forwardedFor: string | undefined;
  let idempotencyKey = false;
  let named: Set<string> | undefined;
  let host = false;
  const keep = scanFields(text, lineEnd + 2, (name, value, raw) => {
    switch (name) {
      case 'content-length': {
        // Node's parser refuses a repeated Content-Length, even an equal one: so does the lane.
        if (contentLength !== -1) unsupported = true;
        contentLength = lengthOf(raw);
        if (contentLength < 0) unsupported = true;
        return true;
      }
      case 'host':
        host = true;
        return true;
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
        unsupported = true;
        return true;
      case 'connection':
        addConnectionOptions(value, (named ??= new Set()));
        return false;
      case 'traceparent':
        traceparent ??= value;
        return false;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        return false;
      case 'idempotency-key':
        idempotencyKey = true;
        return true;
      default:
        return !HOP_BY_HOP.has(name);
    }
  });
  // HTTP/1.1 requires Host (Node answers 400 without it); a Connection naming a framing field
  // would have the lane drop it while passing the body on: both are left to Node.
  if (!keep || unsupported || !host || FRAMING.some((name) => named?.has(name))) return undefined;
  return {
    method, target, size: end - from, contentLength: Math.max(0, contentLength),
    close: named?.has('close') === true,
    traceparent, forwardedFor, idempotencyKey,
    keep: named ? dropNamed(text, keep, named) : keep,
  };
}

/** The response head between `from` and `end`; undefined when malformed (the upstream broke the protocol). */
export function parseResponseHead(buffer: Buffer, from: number, end: number): ResponseHead | undefined {
  const text = buffer.toString('latin1', from, end - 2);
  const lineEnd = text.indexOf('\r\n');
  const match = STATUS_LINE.exec(text.slice(0, lineEnd));
  if (!match) return undefined;
  let contentLength = -1;
  let invalid = false;
  let transferEncoding: string | undefined;
  let named: Set<string> | undefined;
  const keep = scanFields(text, lineEnd + 2, (name, value, raw) => {
    if (name === 'content-length') {
      const length = lengthOf(raw);
      if (length < 0 || (contentLength >= 0 && length !== contentLength)) invalid = true;
      contentLength = length;
      return true;
    }
    if (name === 'transfer-encoding') {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
      return true;
    }
    if (name === 'connection') {
      addConnectionOptions(value, (named ??= new Set()));
      return false;
    }
    return !HOP_BY_HOP.has(name);
  });
  // Both Content-Length and Transfer-Encoding: the message is ambiguous, an error (RFC 9112 §6.3),
  // as Node's client takes it too (502).
  if (!keep || invalid || (transferEncoding !== undefined && contentLength >= 0)) return undefined;
  // A framing field named in Connection stays: its bytes pass through, so must the field that frames them.
  for (const name of FRAMING) named?.delete(name);
  // Chunked only when it is the last coding (RFC 9112 §6.3); any other coding means: read until close.
  const chunked = transferEncoding !== undefined && /(?:^|,)\s*chunked\s*$/i.test(transferEncoding);
  const http10 = match[1] === '0';
  return {
    status: Number(match[2]), http10, size: end - from,
    // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3).
    contentLength: transferEncoding === undefined ? contentLength : -1,
    chunked,
    close: named?.has('close') === true || (http10 && named?.has('keep-alive') !== true) || (transferEncoding !== undefined && !chunked),
    keep: named ? dropNamed(text, keep, named) : keep,
  };
}

/** The length of the kept ranges. */
function keptLength(keep: readonly number[]): number {
  let length = 0;
  for (let i = 0; i < keep.length; i += 2) length += keep[i + 1]! - keep[i]!;
  return length;
}

/** Copies the kept ranges of the head at `from` in `source` into `target` at `at`; returns the index past them. */
function copyKept(source: Buffer, from: number, keep: readonly number[], target: Buffer, at: number): number {
  for (let i = 0; i < keep.length; i += 2) at += source.copy(target, at, from + keep[i]!, from + keep[i + 1]!);
  return at;
}

/**
 * The request sent upstream, head and body in one buffer: the caller's head without its hop-by-hop
 * fields, X-Forwarded-For with the caller added, and a traceparent naming the proxy's span.
 */
export function upstreamRequest(source: Buffer, from: number, head: RequestHead, callerAddress: string, traceparent: string, body: Buffer | undefined): Buffer {
  const forwardedFor = head.forwardedFor === undefined ? callerAddress : `${head.forwardedFor}, ${callerAddress}`;
  const added = `x-forwarded-for: ${forwardedFor}\r\ntraceparent: ${traceparent}\r\n\r\n`;
  const bodyLength = body?.length ?? 0;
  const out = Buffer.allocUnsafe(keptLength(head.keep) + Buffer.byteLength(added, 'latin1') + bodyLength);
  let at = copyKept(source, from, head.keep, out, 0);
  at += out.write(added, at, 'latin1');
  if (body) body.copy(out, at);
  return out;
}

const CLOSE_FIELD = 'connection: close\r\n\r\n';

/**
 * The response head for the caller, followed by the first `bodyLength` body bytes after it in
 * `source`, in one buffer: the upstream's head without its hop-by-hop fields (framing fields pass
 * as they are, since the body's bytes do), HTTP/1.1, and `connection: close` when the caller's
 * connection closes after it.
 */
export function callerResponse(source: Buffer, from: number, head: ResponseHead, close: boolean, bodyLength: number): Buffer {
  const ending = close ? CLOSE_FIELD : '\r\n';
  const out = Buffer.allocUnsafe(keptLength(head.keep) + ending.length + bodyLength);
  let at = copyKept(source, from, head.keep, out, 0);
  // The proxy speaks HTTP/1.1 to its caller whatever the upstream spoke (RFC 9110 §2.5).
  if (head.http10) out[7] = 0x31;
  at += out.write(ending, at, 'latin1');
  source.copy(out, at, from + head.size, from + head.size + bodyLength);
  return out;
}
