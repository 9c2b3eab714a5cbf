import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { contentArchive } from '../../../src/runtime/docker/files.js';

describe('contentArchive', () => {
  it('holds each file relative to / with its mode and owner, and no directory entries', async () => {
    const archive = await contentArchive([
      { target: '/run/secrets/api_key', content: Buffer.from('s3cr3t'), mode: 0o400, uid: 1000, gid: 1001 },
      { target: '/etc/app/config.json', content: Buffer.from('{"a":1}'), mode: 0o444, uid: 0, gid: 0 },
    ]);
    const entries: { name: string; mode?: number; uid?: number; gid?: number; type?: string | null; body: string }[] = [];
    const reader = extract();
    Readable.from([archive]).pipe(reader);
    for await (const entry of reader) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const { name, mode, uid, gid, type } = entry.header;
      entries.push({ name, mode, uid, gid, type, body: Buffer.concat(chunks).toString() });
    }
    expect(entries).toEqual([
      { name: 'run/secrets/api_key', mode: 0o400, uid: 1000, gid: 1001, type: 'file', body: 's3cr3t' },
      { name: 'etc/app/config.json', mode: 0o444, uid: 0, gid: 0, type: 'file', body: '{"a":1}' },
    ]);
  });
});
