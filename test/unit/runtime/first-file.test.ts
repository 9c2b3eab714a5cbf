import { PassThrough } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { firstFile } from '../../../src/runtime/docker/files.js';

/** A tar as the Engine's archive API sends it, through a stream we can watch. */
async function archiveOf(files: Record<string, Buffer>): Promise<PassThrough> {
  const archive = pack();
  for (const [name, content] of Object.entries(files)) archive.entry({ name, size: content.length }, content);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  // Like a socket: the first part now, the rest a little later.
  const whole = Buffer.concat(chunks);
  const stream = new PassThrough();
  stream.write(whole.subarray(0, 4096));
  setTimeout(() => stream.end(whole.subarray(4096)), 50);
  return stream;
}

describe('firstFile', () => {
  it('returns the first regular file and reads the response to its end, so its socket is released', async () => {
    const report = Buffer.from('<testsuite/>'.repeat(100));
    const stream = await archiveOf({ 'junit.xml': report, 'after.txt': Buffer.alloc(300_000, 1) });
    expect(await firstFile(stream)).toEqual(report);
    expect(stream.readableEnded).toBe(true);
  });

  it('is undefined for an archive without a regular file', async () => {
    expect(await firstFile(await archiveOf({}))).toBeUndefined();
  });
});
