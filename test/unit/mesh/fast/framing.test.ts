/** Where a response body ends, whatever the chunks it arrives in. */
import { describe, expect, test } from 'vitest';
import { BodyFramer, responseFraming, type Framing } from '../../../../src/mesh/http/fast/framing.js';

/** Feeds `body` split at every `step` bytes; returns the bytes taken and whether the framer was done. */
function feed(framing: Framing, body: string, step: number): { taken: number; done: boolean; invalid: boolean } {
  const framer = new BodyFramer(framing);
  const buffer = Buffer.from(body, 'latin1');
  let taken = 0;
  for (let at = 0; at < buffer.length && !framer.done && !framer.invalid; at += step) {
    const chunk = buffer.subarray(at, Math.min(buffer.length, at + step));
    const used = framer.take(chunk, 0);
    taken += used;
    if (used < chunk.length) break;
  }
  return { taken, done: framer.done, invalid: framer.invalid };
}

const CHUNKED = '5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nx-checksum: 42\r\n\r\n';

describe('chunked bodies', () => {
  test.each([1, 2, 3, 7, 1000])('end after the last chunk and its trailers, split every %i bytes', (step) => {
    expect(feed({ kind: 'chunked' }, `${CHUNKED}GET /next`, step)).toEqual({ taken: CHUNKED.length, done: true, invalid: false });
  });

  test('without trailers', () => {
    expect(feed({ kind: 'chunked' }, '3\r\nabc\r\n0\r\n\r\n', 1)).toEqual({ taken: 13, done: true, invalid: false });
  });

  test.each([
    ['a size that is not hex', 'zz\r\n'],
    ['data longer than its size', '3\r\nabcd\r\n'],
    ['a size with no digits', '\r\n'],
    ['a size too large', 'fffffffffffff\r\n'],
  ])('%s is invalid', (_what, body) => {
    expect(feed({ kind: 'chunked' }, body, 1).invalid).toBe(true);
  });

  test('is not done before its end', () => {
    expect(feed({ kind: 'chunked' }, '3\r\nabc\r\n0\r\n', 1)).toEqual({ taken: 11, done: false, invalid: false });
  });
});

test('a length-delimited body ends after its length, and takes nothing past it', () => {
  expect(feed({ kind: 'length', length: 4 }, 'abcdefg', 3)).toEqual({ taken: 4, done: true, invalid: false });
  expect(new BodyFramer({ kind: 'length', length: 0 }).done).toBe(true);
});

test('a body read until close takes everything', () => {
  expect(feed({ kind: 'close' }, 'abcdefg', 3)).toEqual({ taken: 7, done: false, invalid: false });
});

test('HEAD, 204, 304 and 1xx answers have no body, whatever their head says', () => {
  const head = { contentLength: 10, chunked: false };
  expect(responseFraming('HEAD', 200, head)).toEqual({ kind: 'length', length: 0 });
  expect(responseFraming('GET', 204, head)).toEqual({ kind: 'length', length: 0 });
  expect(responseFraming('GET', 304, { contentLength: -1, chunked: true })).toEqual({ kind: 'length', length: 0 });
  expect(responseFraming('GET', 200, head)).toEqual({ kind: 'length', length: 10 });
  expect(responseFraming('GET', 200, { contentLength: -1, chunked: true })).toEqual({ kind: 'chunked' });
  expect(responseFraming('GET', 200, { contentLength: -1, chunked: false })).toEqual({ kind: 'close' });
});
