import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { contextEntries, createBuildContext } from '../../../src/runtime/docker/build-context.js';

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

/** Names and contents of the files in a tar stream. */
async function untar(tar: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const reader = extract();
  tar.pipe(reader);
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks).toString());
  }
  return files;
}

describe('build context', () => {
  it('honours .dockerignore, exceptions included, and always sends the Dockerfile and .dockerignore', async () => {
    const root = tree({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': '# comment\n*.log\n!keep.log\nsecret.txt\nnode_modules\nDockerfile\n.dockerignore\ndocs/*\n!docs/README.md\n',
      'app.js': 'console.log(1)',
      'debug.log': 'x',
      'keep.log': 'x',
      'secret.txt': 'hunter2',
      'sub/secret.txt': 'not matched: patterns are anchored to the root',
      'node_modules/dep/index.js': 'x',
      'docs/guide.md': 'x',
      'docs/README.md': 'x',
    });
    expect(await contextEntries(root, ['Dockerfile', '.dockerignore'])).toEqual([
      '.dockerignore',
      'Dockerfile',
      'app.js',
      'docs',
      'docs/README.md',
      'keep.log',
      'sub',
      'sub/secret.txt',
    ]);

    const context = await createBuildContext(root, 'Dockerfile');
    expect(context.dockerfile).toBe('Dockerfile');
    const files = await untar(context.tar);
    expect([...files.keys()].sort()).toEqual(['.dockerignore', 'Dockerfile', 'app.js', 'docs/README.md', 'keep.log', 'sub/secret.txt']);
    expect(files.get('app.js')).toBe('console.log(1)');
  });

  it('finds a Dockerfile inside an ignored directory', async () => {
    const root = tree({ 'docker/api.Dockerfile': 'FROM scratch\n', 'docker/other': 'x', '.dockerignore': 'docker\n', 'main.go': 'x' });
    const context = await createBuildContext(root, 'docker/api.Dockerfile');
    expect(context.dockerfile).toBe('docker/api.Dockerfile');
    expect([...(await untar(context.tar)).keys()].sort()).toEqual(['.dockerignore', 'docker/api.Dockerfile', 'main.go']);
  });

  it('adds a Dockerfile from outside the context under a generated name', async () => {
    const outside = tree({ 'api.Dockerfile': 'FROM scratch\nCOPY . /\n' });
    const root = tree({ 'main.go': 'package main' });
    const context = await createBuildContext(root, join(outside, 'api.Dockerfile'));
    expect(context.dockerfile).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/);
    const files = await untar(context.tar);
    expect(files.get(context.dockerfile)).toBe('FROM scratch\nCOPY . /\n');
    expect(files.has('main.go')).toBe(true);
  });

  it('fails with BUILD_FAILED naming a missing Dockerfile', async () => {
    const root = tree({ 'main.go': 'x' });
    await expect(createBuildContext(root, 'Dockerfile')).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining(join(root, 'Dockerfile')) as string,
    });
  });
});
