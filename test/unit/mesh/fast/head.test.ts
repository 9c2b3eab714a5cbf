/** The fast lane's head reader: what it carries, what it leaves to Node, and the bytes it passes on. */
import { describe, expect, test } from 'vitest';
import { callerResponse, headText, parseRequestHead, parseResponseHead, upstreamRequest } from '../../../../src/mesh/http/fast/head.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

function request(text: string) {
  const buffer = bytes(text);
  return { buffer, head: parseRequestHead(headText(buffer)!) };
}

function response(text: string) {
  const buffer = bytes(text);
  return { buffer, head: parseResponseHead(headText(buffer)!) };
}

describe('finding a head', () => {
  test('the head is its text up to the blank line; undefined until the blank line has come', () => {
    expect(headText(bytes('GET / HTTP/1.1\r\nhost: x\r\n\r\nbody'))).toBe('GET / HTTP/1.1\r\nhost: x\r\n');
    expect(headText(bytes('GET / HTTP/1.1\r\nhost: x\r\n\r'))).toBeUndefined();
  });

  test.each([2040, 2046, 2047, 2048, 5000])('a head ending at byte %i is found whole, wherever its blank line falls', (length) => {
    const start = 'GET / HTTP/1.1\r\nhost: x\r\nx-long: ';
    const head = `${start}${'a'.repeat(length - start.length - 4)}\r\n\r\n`;
    expect(head.length).toBe(length);
    expect(headText(bytes(`${head}${'b'.repeat(100)}`))).toBe(head.slice(0, -2));
    expect(headText(bytes(head.slice(0, -1)))).toBeUndefined();
  });
});

describe('request heads', () => {
  test('reads the method, target, length and the fields the proxy rewrites', () => {
    const { head } = request('POST /orders?x=1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nTraceparent: 00-abc\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\nIdempotency-Key: k1\r\n\r\nhello');
    expect(head).toMatchObject({
      method: 'POST', target: '/orders?x=1', contentLength: 5, close: false,
      traceparent: '00-abc', forwardedFor: '10.0.0.1, 10.0.0.2', idempotencyKey: true,
    });
    expect(head?.size).toBe('POST /orders?x=1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nTraceparent: 00-abc\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\nIdempotency-Key: k1\r\n\r\n'.length);
  });

  test.each([
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nhost: x\r\n\r\n'],
    ['an absolute-form target', 'GET http://x/ HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['a chunked body', 'POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n'],
    ['an upgrade', 'GET / HTTP/1.1\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n'],
    ['Expect', 'POST / HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 3\r\n\r\n'],
    ['two different lengths', 'POST / HTTP/1.1\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n'],
    ['a length that is not a number', 'POST / HTTP/1.1\r\ncontent-length: 3x\r\n\r\n'],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nx-a: 1\r\n  folded\r\n\r\n'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nhost : x\r\n\r\n'],
    ['a bare LF inside a line', 'GET / HTTP/1.1\r\nx-a: 1\nx-b: 2\r\n\r\n'],
    ['a control character in a value', 'GET / HTTP/1.1\r\nx-a: 1\u0001\r\n\r\n'],
    ['a lower-case method', 'get / HTTP/1.1\r\n\r\n'],
  ])('leaves %s to the Node path', (_what, text) => {
    expect(request(text).head).toBeUndefined();
  });

  test.each([
    ['the same length twice (Node refuses it)', 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\n'],
    ['a length padded with a no-break space', 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\u00a0\r\n\r\n'],
    ['no Host', 'GET / HTTP/1.1\r\naccept: */*\r\n\r\n'],
    ['Connection naming Content-Length (the lane would drop it and pass the body on: smuggling)', 'POST /a HTTP/1.1\r\nhost: x\r\nconnection: content-length\r\ncontent-length: 35\r\n\r\n'],
    ['Connection naming Transfer-Encoding', 'GET /a HTTP/1.1\r\nhost: x\r\nconnection: Transfer-Encoding\r\n\r\n'],
    ['a bare LF in the target', 'GET /x\nContent-Length:\t10\nX:\ty HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['a bare CR in the target', 'GET /x\ry HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['a control character in the target', 'GET /x\u0000y HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['an extension method', 'FOO / HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['CONNECT', 'CONNECT /x HTTP/1.1\r\nhost: x\r\n\r\n'],
  ])('leaves %s to the Node path', (_what, text) => {
    expect(request(text).head).toBeUndefined();
  });

  test('a length between spaces and tabs is read', () => {
    expect(request('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: \t7 \r\n\r\n').head?.contentLength).toBe(7);
  });

  test('sends upstream the head without hop-by-hop fields, with the caller added to X-Forwarded-For and the proxy span as traceparent', () => {
    const text = 'PUT /a HTTP/1.1\r\nHost: shop\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\nX-Secret: s\r\nTE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\ntraceparent: 00-old\r\nAccept: */*\r\nContent-Length: 2\r\n\r\nhi';
    const { head } = request(text);
    expect(upstreamRequest(head!, '10.0.0.9', '00-new')).toBe('PUT /a HTTP/1.1\r\nHost: shop\r\nAccept: */*\r\nContent-Length: 2\r\nx-forwarded-for: 10.0.0.1, 10.0.0.9\r\ntraceparent: 00-new\r\n\r\n');
  });

  test('the head sent upstream is the bytes received, whatever their value (latin1 both ways)', () => {
    const { head } = request('GET /a HTTP/1.1\r\nhost: x\r\nx-name: caf\u00e9 \u00ff\r\n\r\n');
    expect(Buffer.from(upstreamRequest(head!, '1.2.3.4', 't'), 'latin1')).toEqual(bytes('GET /a HTTP/1.1\r\nhost: x\r\nx-name: caf\u00e9 \u00ff\r\nx-forwarded-for: 1.2.3.4\r\ntraceparent: t\r\n\r\n'));
  });

  test('Connection: close is read, and not passed on', () => {
    const { head } = request('GET / HTTP/1.1\r\nconnection: close\r\nhost: x\r\n\r\n');
    expect(head?.close).toBe(true);
    expect(upstreamRequest(head!, '1.2.3.4', 't')).toBe('GET / HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 1.2.3.4\r\ntraceparent: t\r\n\r\n');
  });
});

describe('response heads', () => {
  test('reads the status and framing, and passes the head on without its hop-by-hop fields, with the first body bytes', () => {
    const { buffer, head } = response('HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nok');
    expect(head).toMatchObject({ status: 200, contentLength: 2, chunked: false, close: false });
    expect(callerResponse(buffer, 0, head!, false, 2)).toBe('HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\n\r\nok');
    expect(callerResponse(buffer, 0, head!, true, 0)).toBe('HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\nconnection: close\r\n\r\n');
  });

  test('body bytes that came with the head pass on as they are, whatever their value', () => {
    const buffer = Buffer.concat([bytes('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n'), Buffer.from([0x00, 0x80, 0xff, 0x0d, 0x0a])]);
    const head = parseResponseHead(headText(buffer)!);
    expect(Buffer.from(callerResponse(buffer, 0, head!, false, 5), 'latin1')).toEqual(buffer);
  });

  test('the status is read with or without a reason phrase, and the length up to 15 digits', () => {
    expect(response('HTTP/1.1 204\r\n\r\n').head).toMatchObject({ status: 204, http10: false });
    expect(response('HTTP/1.0 503 Service Unavailable\r\ncontent-length: 999999999999999\r\n\r\n').head).toMatchObject({ status: 503, http10: true, contentLength: 999_999_999_999_999 });
  });

  test('both Transfer-Encoding and Content-Length is an error; chunked only as the last coding', () => {
    expect(response('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 9\r\n\r\n').head).toBeUndefined();
    expect(response('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n').head).toMatchObject({ chunked: true, contentLength: -1, close: false });
    expect(response('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n').head).toMatchObject({ chunked: false, contentLength: -1, close: true });
  });

  test('framing fields stay, whatever Connection names: their bytes pass through', () => {
    const { buffer, head } = response('HTTP/1.1 200 OK\r\nConnection: content-length, transfer-encoding, x-a\r\nContent-Length: 5\r\nx-a: 1\r\n\r\nhello');
    expect(callerResponse(buffer, 0, head!, false, 5)).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  });

  test('an HTTP/1.0 answer closes unless kept alive, and reaches the caller as HTTP/1.1', () => {
    const { buffer, head } = response('HTTP/1.0 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    expect(head).toMatchObject({ status: 404, close: true });
    expect(callerResponse(buffer, 0, head!, true, 0)).toBe('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    expect(response('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n').head?.close).toBe(false);
  });

  test.each([
    ['a bad status line', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['HTTP/2', 'HTTP/2 200 OK\r\n\r\n'],
    ['two different lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n'],
    ['a bad field line', 'HTTP/1.1 200 OK\r\nx y: 1\r\n\r\n'],
    ['a bare LF in the status line', 'HTTP/1.1 200 OK\nx-a: 1\r\n\r\n'],
    ['a length of 16 digits', 'HTTP/1.1 200 OK\r\ncontent-length: 1000000000000000\r\n\r\n'],
    ['an empty length', 'HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\n'],
  ])('refuses %s', (_what, text) => {
    expect(response(text).head).toBeUndefined();
  });
});
