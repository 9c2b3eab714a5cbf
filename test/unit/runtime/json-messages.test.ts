import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { messageLines, readJsonMessages, type JsonMessage } from '../../../src/runtime/docker/json-messages.js';

describe('messageLines', () => {
  it('formats build output, pull status and errors as lines', () => {
    expect(messageLines({ stream: 'Step 1/2 : FROM debian\n ---> abc\n' })).toEqual(['Step 1/2 : FROM debian', ' ---> abc']);
    expect(messageLines({ status: 'Downloading', id: '1a2b', progress: '[==>  ] 1MB/3MB' })).toEqual(['1a2b: Downloading [==>  ] 1MB/3MB']);
    expect(messageLines({ status: 'Pulling from library/debian' })).toEqual(['Pulling from library/debian']);
    expect(messageLines({ error: 'boom', errorDetail: { message: 'boom in detail' } })).toEqual(['boom in detail']);
    expect(messageLines({ aux: { ID: 'sha256:1' } })).toEqual([]);
  });
});

describe('readJsonMessages', () => {
  it('reads messages split anywhere, and non-JSON lines as output', async () => {
    const stream = new PassThrough();
    const messages: JsonMessage[] = [];
    const done = readJsonMessages(stream, (m) => messages.push(m));
    const text = '{"stream":"one\\n"}\r\n{"status":"Do\nnot json\n{"aux":{"ID":"sha256:9"}}';
    // Split inside a message, including inside a multi-byte character.
    const bytes = Buffer.from(text.replace('Do', 'Dö'));
    for (let at = 0; at < bytes.length; at += 5) stream.write(bytes.subarray(at, at + 5));
    stream.end();
    await done;
    expect(messages).toEqual([{ stream: 'one\n' }, { stream: '{"status":"Dö' }, { stream: 'not json' }, { aux: { ID: 'sha256:9' } }]);
  });

  it('fails with the given error when the stream goes silent', async () => {
    const stream = new PassThrough();
    const started = Date.now();
    await expect(
      readJsonMessages(stream, () => undefined, { idleTimeoutMs: 50, onIdle: () => new Error('registry silent') }),
    ).rejects.toThrow('registry silent');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
