import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { listContext } from '../../../src/build/context-files.js';
import { createBuildContext } from '../../../src/runtime/docker/build-context.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A directory with these files (paths relative, `/`-separated). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-ctx-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

/** Names and contents of the files in a tar stream, and every entry's name and type in order. */
async function untar(tar: NodeJS.ReadableStream): Promise<{ files: Map<string, string>; names: string[] }> {
  const files = new Map<string, string>();
  const names: string[] = [];
  const reader = extract();
  tar.pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    names.push(`${entry.header.name} ${entry.header.type ?? ''} ${entry.header.uid ?? ''}:${entry.header.gid ?? ''}`);
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks).toString());
  }
  return { files, names };
}

describe('build context', () => {
  it('sends exactly the listed entries, without walking or filtering on its own', async () => {
    const root = tree({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': 'secret.txt\n',
      'app.js': 'console.log(1)',
      'secret.txt': 'hunter2',
      'lib/a.js': 'a',
      'lib/b.js': 'b',
    });
    // lib is listed but lib/b.js is not: directories' children must not come along.
    const context = await createBuildContext({ context: root, entries: ['Dockerfile', 'app.js', 'lib', 'lib/a.js', 'secret.txt'], dockerfile: 'Dockerfile' });
    expect(context.dockerfile).toBe('Dockerfile');
    const { files, names } = await untar(context.tar);
    expect(names).toEqual(['Dockerfile file 0:0', 'app.js file 0:0', 'lib directory 0:0', 'lib/a.js file 0:0', 'secret.txt file 0:0']);
    expect(files.get('app.js')).toBe('console.log(1)');
  });

  it('sends what listContext keeps', async () => {
    const root = tree({ Dockerfile: 'FROM scratch\n', '.dockerignore': '*.log\n', 'main.go': 'x', 'debug.log': 'x' });
    const context = await createBuildContext({ context: root, ...(await listContext(root, 'Dockerfile')) });
    expect([...(await untar(context.tar)).files.keys()]).toEqual(['.dockerignore', 'Dockerfile', 'main.go']);
  });

  it('adds a Dockerfile from outside the context under its generated name, mode 0644', async () => {
    const outside = tree({ 'api.Dockerfile': 'FROM scratch\nCOPY . /\n' });
    const root = tree({ 'main.go': 'package main' });
    const listing = await listContext(root, join(outside, 'api.Dockerfile'));
    const context = await createBuildContext({ context: root, ...listing });
    expect(context.dockerfile).toBe(listing.dockerfile);
    expect(context.entries).toEqual(['main.go', listing.dockerfile]);
    const { files } = await untar(context.tar);
    expect([...files.keys()]).toEqual(['main.go', listing.dockerfile]);
    expect(files.get(listing.dockerfile)).toBe('FROM scratch\nCOPY . /\n');
  });

  it('refuses a Dockerfile that is not among the entries', async () => {
    const root = tree({ Dockerfile: 'FROM scratch\n', 'main.go': 'x' });
    await expect(createBuildContext({ context: root, entries: ['main.go'], dockerfile: 'Dockerfile' })).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: `The Dockerfile Dockerfile is not among the 1 entries to send from ${root}`,
    });
  });

  it('refuses a relative context', async () => {
    await expect(createBuildContext({ context: 'app', entries: ['Dockerfile'], dockerfile: 'Dockerfile' })).rejects.toMatchObject({ code: 'BUILD_FAILED' });
  });
});
