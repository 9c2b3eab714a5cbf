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
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'];
// An origin-form target of visible ASCII only (no bare CR or LF, no control character, no space).
const TARGET = /^\/[!-~]*$/;
// The status line, up to its CRLF (the reason phrase has neither CR nor LF): tested, not captured.
const STATUS_LINE = /^HTTP\/1\.[01] [1-9]\d\d(?: [\t\x20-\x7e\x80-\xff]*)?\r\n/;
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
  /** The Host field's value, as received. */
  host: string;
  /** The head as latin1 text, its final blank line excluded. */
  text: string;
  /** The ranges of `text` to pass on: [start, end) pairs. */
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
  /** The head as latin1 text, its final blank line excluded. */
  text: string;
  /** The ranges of `text` to pass on: [start, end) pairs. */
  keep: number[];
}

/** Where the head starting at `from` ends (the index past its blank line), or -1 when it is not all there yet. */
export function headEnd(buffer: Buffer, from: number): number {
  const at = buffer.indexOf(HEAD_END, from);
  return at < 0 ? -1 : at + 4;
}

/** Bytes decoded first when looking for a head: most heads are shorter. */
const QUICK_BYTES = 2048;

/**
 * The head at the start of `buffer` as latin1 text, its final blank line excluded (the head is
 * `text.length + 2` bytes), or undefined when it is not all there yet. The lane reads heads as text
 * anyway: decoding the first bytes and searching the text is cheaper than searching the buffer first.
 */
export function headText(buffer: Buffer): string | undefined {
  const quick = buffer.toString('latin1', 0, Math.min(buffer.length, QUICK_BYTES));
  const at = quick.indexOf('\r\n\r\n');
  if (at >= 0) return quick.slice(0, at + 2);
  if (buffer.length <= QUICK_BYTES) return undefined;
  const end = headEnd(buffer, 0);
  return end < 0 ? undefined : buffer.toString('latin1', 0, end - 2);
}

/**
 * One pass over a head's field lines: calls `field` with each lower-cased name and where its value
 * (as received, untrimmed) starts and ends in `text` (most values are never read: they are sliced
 * only when they are), and returns the byte ranges to keep (the start line always; a field line
 * unless `field` returns false). Undefined when the field lines are malformed.
 */
function scanFields(text: string, fieldsStart: number, field: (name: string, value: number, end: number) => boolean): number[] | undefined {
  if (!FIELD_LINES.test(text.slice(fieldsStart))) return undefined;
  const keep = [0, fieldsStart];
  let at = fieldsStart;
  while (at < text.length) {
    const lineEnd = text.indexOf('\r\n', at);
    const next = lineEnd + 2;
    const colon = text.indexOf(':', at);
    if (field(text.slice(at, colon).toLowerCase(), colon + 1, lineEnd)) {
      // Kept: the range ending here grows, or a new one starts after a dropped line.
      if (keep[keep.length - 1] === at) keep[keep.length - 1] = next;
      else keep.push(at, next);
    }
    at = next;
  }
  return keep;
}

const isBlank = (code: number): boolean => code === 0x20 || code === 0x09;

/**
 * The Content-Length value between `start` and `end` in `text` as a number; -2 when it is not one:
 * 1 to 15 digits between optional spaces and tabs only (trim() would also take a no-break space).
 */
function lengthAt(text: string, start: number, end: number): number {
  let at = start;
  while (at < end && isBlank(text.charCodeAt(at))) at++;
  const digits = at;
  let value = 0;
  for (let digit = text.charCodeAt(at) - 0x30; at < end && digit >= 0 && digit <= 9; digit = text.charCodeAt(at) - 0x30) {
    value = value * 10 + digit;
    at++;
  }
  const count = at - digits;
  while (at < end && isBlank(text.charCodeAt(at))) at++;
  return at === end && count >= 1 && count <= 15 ? value : -2;
}

/**
 * Adds the names in a Connection value to `into`. An array, not a Set: it holds one or two names
 * (keep-alive, close), and a Set per message cost more than the rest of the head's reading.
 */
function addConnectionOptions(raw: string, into: string[]): void {
  const value = raw.trim().toLowerCase();
  // One name, the usual value: no split.
  for (const token of value.includes(',') ? value.split(',') : [value]) {
    const name = token.trim();
    if (name && !into.includes(name)) into.push(name);
  }
}

/**
 * The kept ranges without the field lines Connection names, when it names any the scan kept: the
 * hop-by-hop ones (keep-alive, the usual name) are gone already, so the common head skips this pass.
 */
function withoutNamed(text: string, keep: number[], named: readonly string[]): number[] {
  for (const name of named) {
    if (name !== 'keep-alive' && !isHopByHop(name) && !FRAMING.includes(name)) return dropNamed(text, keep, named);
  }
  return keep;
}

/**
 * The method `text` starts with (`length` characters), as one of the constants in METHODS: the
 * same string every request, so the maps keyed by method (the metrics) never hash a new one.
 */
function methodOf(text: string, length: number): string | undefined {
  for (const method of METHODS) if (method.length === length && text.startsWith(method)) return method;
  return undefined;
}

/** Lengths of the hop-by-hop names: most names are told from them by length, without hashing a new string. */
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((name) => name.length));

/** Whether a lower-cased field name is hop-by-hop. */
function isHopByHop(name: string): boolean {
  return HOP_BY_HOP_LENGTHS.has(name.length) && HOP_BY_HOP.has(name);
}

/** Drops the ranges' field lines named in Connection, found after the scan (they may come before it). */
function dropNamed(text: string, keep: number[], named: readonly string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < keep.length; i += 2) {
    let start = keep[i]!;
    const end = keep[i + 1]!;
    let at = i === 0 ? text.indexOf('\r\n') + 2 : start;
    while (at < end) {
      const lineEnd = text.indexOf('\r\n', at);
      const name = text.slice(at, text.indexOf(':', at)).toLowerCase();
      // A framing field named in Connection stays: its bytes pass through, so must the field that frames them.
      if (named.includes(name) && !FRAMING.includes(name)) {
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
 * The request head `text` (from headText), when the fast lane can carry it: HTTP/1.1, an
 * origin-form target, no Transfer-Encoding, no Upgrade, no Expect. Undefined otherwise.
 */
export function parseRequestHead(text: string): RequestHead | undefined {
  const lineEnd = text.indexOf('\r\n');
  const firstSpace = text.indexOf(' ');
  const lastSpace = text.lastIndexOf(' ', lineEnd);
  if (firstSpace <= 0 || lastSpace <= firstSpace || lineEnd - lastSpace !== 9 || !text.startsWith('HTTP/1.1', lastSpace + 1)) return undefined;
  const method = methodOf(text, firstSpace);
  const target = text.slice(firstSpace + 1, lastSpace);
  if (method === undefined || !TARGET.test(target)) return undefined;
  let contentLength = -1;
  let unsupported = false;
  let traceparent: string | undefined;
  let forwardedFor: string | undefined;
  let idempotencyKey = false;
  let named: string[] | undefined;
  let host: string | undefined;
  const keep = scanFields(text, lineEnd + 2, (name, value, end) => {
    switch (name) {
      case 'content-length': {
        // Node's parser refuses a repeated Content-Length, even an equal one: so does the lane.
        if (contentLength !== -1) unsupported = true;
        contentLength = lengthAt(text, value, end);
        if (contentLength < 0) unsupported = true;
        return true;
      }
      case 'host':
        // A second Host is left to Node's parser, which keeps the first (RFC 9112 §3.2 asks for a 400).
        if (host !== undefined) unsupported = true;
        host = text.slice(value, end);
        return true;
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
        unsupported = true;
        return true;
      case 'connection':
        addConnectionOptions(text.slice(value, end), (named ??= []));
        return false;
      case 'traceparent':
        traceparent ??= text.slice(value, end).trim();
        return false;
      case 'x-forwarded-for': {
        const trimmed = text.slice(value, end).trim();
        forwardedFor = forwardedFor === undefined ? trimmed : `${forwardedFor}, ${trimmed}`;
        return false;
      }
      case 'idempotency-key':
        idempotencyKey = true;
        return true;
      default:
        return !isHopByHop(name);
    }
  });
  // HTTP/1.1 requires Host (Node answers 400 without it); a Connection naming a framing field
  // would have the lane drop it while passing the body on: both are left to Node.
  if (!keep || unsupported || host === undefined || (named !== undefined && FRAMING.some((name) => named!.includes(name)))) return undefined;
  return {
    method, target, size: text.length + 2, contentLength: Math.max(0, contentLength),
    close: named?.includes('close') === true,
    traceparent, forwardedFor, idempotencyKey, host, text,
    keep: named ? withoutNamed(text, keep, named) : keep,
  };
}

/** The response head `text` (from headText); undefined when malformed (the upstream broke the protocol). */
export function parseResponseHead(text: string): ResponseHead | undefined {
  if (!STATUS_LINE.test(text)) return undefined;
  const lineEnd = text.indexOf('\r\n');
  let contentLength = -1;
  let invalid = false;
  let transferEncoding: string | undefined;
  let named: string[] | undefined;
  const keep = scanFields(text, lineEnd + 2, (name, value, end) => {
    if (name === 'content-length') {
      const length = lengthAt(text, value, end);
      if (length < 0 || (contentLength >= 0 && length !== contentLength)) invalid = true;
      contentLength = length;
      return true;
    }
    if (name === 'transfer-encoding') {
      const coding = text.slice(value, end).trim();
      transferEncoding = transferEncoding === undefined ? coding : `${transferEncoding}, ${coding}`;
      return true;
    }
    if (name === 'connection') {
      addConnectionOptions(text.slice(value, end), (named ??= []));
      return false;
    }
    return !isHopByHop(name);
  });
  // Both Content-Length and Transfer-Encoding: the message is ambiguous, an error (RFC 9112 §6.3),
  // as Node's client takes it too (502).
  if (!keep || invalid || (transferEncoding !== undefined && contentLength >= 0)) return undefined;
  // Chunked only when it is the last coding (RFC 9112 §6.3); any other coding means: read until close.
  const chunked = transferEncoding !== undefined && /(?:^|,)\s*chunked\s*$/i.test(transferEncoding);
  // "HTTP/1.x SSS", as STATUS_LINE checked.
  const http10 = text.charCodeAt(7) === 0x30;
  const status = (text.charCodeAt(9) - 0x30) * 100 + (text.charCodeAt(10) - 0x30) * 10 + (text.charCodeAt(11) - 0x30);
  return {
    status, http10, size: text.length + 2,
    // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3).
    contentLength: transferEncoding === undefined ? contentLength : -1,
    chunked,
    close: named?.includes('close') === true || (http10 && named?.includes('keep-alive') !== true) || (transferEncoding !== undefined && !chunked),
    text,
    keep: named ? withoutNamed(text, keep, named) : keep,
  };
}

/** The kept ranges of a head's text, joined. */
function keptText(text: string, keep: readonly number[]): string {
  // Usually one range (the whole head, or all of it but a trailing hop-by-hop field).
  let out = text.slice(keep[0], keep[1]);
  for (let i = 2; i < keep.length; i += 2) out += text.slice(keep[i], keep[i + 1]);
  return out;
}

/*
 * What the lane writes is a latin1 string, not a Buffer: a head is mostly slices of the text it was
 * read as, and Node writes a short string from the stack in one call, where assembling a Buffer
 * took an allocation and a native call per range copied.
 */

/**
 * The request head sent upstream (its body, if any, follows it as it came): the caller's head
 * without its hop-by-hop fields, X-Forwarded-For with the caller added, and a traceparent naming
 * the proxy's span. Latin1: each character is the byte received.
 */
export function upstreamRequest(head: RequestHead, callerAddress: string, traceparent: string): string {
  const forwardedFor = head.forwardedFor === undefined ? callerAddress : `${head.forwardedFor}, ${callerAddress}`;
  return `${keptText(head.text, head.keep)}x-forwarded-for: ${forwardedFor}\r\ntraceparent: ${traceparent}\r\n\r\n`;
}

const CLOSE_FIELD = 'connection: close\r\n\r\n';

/**
 * The response head for the caller, followed by the first `bodyLength` body bytes after it in
 * `source` (where the head starts at `from`), as one latin1 string: the upstream's head without its
 * hop-by-hop fields (framing fields pass as they are, since the body's bytes do), HTTP/1.1, and
 * `connection: close` when the caller's connection closes after it.
 */
export function callerResponse(source: Buffer, from: number, head: ResponseHead, close: boolean, bodyLength: number): string {
  let out = keptText(head.text, head.keep);
  // The proxy speaks HTTP/1.1 to its caller whatever the upstream spoke (RFC 9110 §2.5).
  if (head.http10) out = `HTTP/1.1${out.slice(8)}`;
  out += close ? CLOSE_FIELD : '\r\n';
  if (bodyLength === 0) return out;
  const bodyStart = from + head.size;
  return out + source.toString('latin1', bodyStart, bodyStart + bodyLength);
}
