import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuildInputError, isRemoteContext, listContext } from '../../../src/build/context-files.js';
import { tree } from './temp-tree.js';

describe('listContext', () => {
  it('honours .dockerignore as the docker CLI does, exceptions included, and always keeps the Dockerfile and .dockerignore', async () => {
    const root = tree({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': '# comment\n*.log\n!keep.log\nsecret.txt\nnode_modules\nDockerfile\n.dockerignore\ndocs/*\n!docs/README.md\n',
      'app.js': 'console.log(1)',
      'debug.log': 'x',
      'keep.log': 'x',
      'secret.txt': 'hunter2',
      'sub/secret.txt': 'not matched: patterns are anchored to the root',
      'sub/z.txt': 'x',
      'sub.txt': 'sorted before sub/ by code unit',
      'node_modules/dep/index.js': 'x',
      'docs/guide.md': 'x',
      'docs/README.md': 'x',
    });
    expect(await listContext(root, 'Dockerfile')).toEqual({
      entries: ['.dockerignore', 'Dockerfile', 'app.js', 'docs', 'docs/README.md', 'keep.log', 'sub', 'sub.txt', 'sub/secret.txt', 'sub/z.txt'],
      dockerfile: 'Dockerfile',
    });
  });

  it('keeps a Dockerfile that lies inside an ignored directory, and nothing else from there', async () => {
    const root = tree({ 'docker/api.Dockerfile': 'FROM scratch\n', 'docker/other': 'x', '.dockerignore': 'docker\n', 'main.go': 'x' });
    expect(await listContext(root, 'docker/api.Dockerfile')).toEqual({
      entries: ['.dockerignore', 'docker/api.Dockerfile', 'main.go'],
      dockerfile: 'docker/api.Dockerfile',
    });
  });

  it('skips an ignored directory whole unless an exception names a path beneath it, like the docker CLI', async () => {
    const root = tree({
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': 'vendor\nnode_modules\n!**/keep.txt\n!vendor/pinned/*\n',
      'node_modules/keep.txt': 'never looked at: no exception starts with node_modules/',
      'vendor/pinned/a.txt': 'x',
      'vendor/other/keep.txt': 'never looked at either: vendor is walked for vendor/pinned/, but not vendor/other',
      'src/keep.txt': 'x',
    });
    expect((await listContext(root, 'Dockerfile')).entries).toEqual(['.dockerignore', 'Dockerfile', 'src', 'src/keep.txt', 'vendor/pinned/a.txt']);
  });

  it('lists a symlink to a directory as a link, without following it', async () => {
    const root = tree({ Dockerfile: 'FROM scratch\n', 'real/file.txt': 'x' });
    symlinkSync('real', join(root, 'alias'));
    expect((await listContext(root, 'Dockerfile')).entries).toEqual(['Dockerfile', 'alias', 'real', 'real/file.txt']);
  });

  it('sends a Dockerfile from outside the context under a name derived from its content', async () => {
    const content = 'FROM scratch\nCOPY . /\n';
    const outside = tree({ 'api.Dockerfile': content });
    const root = tree({ 'main.go': 'package main', '..notparent': 'a file, not a way out' });
    const name = `.dockerfile.${createHash('sha256').update(content).digest('hex').slice(0, 20)}`;
    expect(await listContext(root, join(outside, 'api.Dockerfile'))).toEqual({
      entries: ['..notparent', 'main.go'],
      dockerfile: name,
      dockerfileOutside: { name, path: join(outside, 'api.Dockerfile') },
    });
    // `../` relative to the context is outside too.
    expect((await listContext(root, `../${basename(outside)}/api.Dockerfile`)).dockerfileOutside).toEqual({ name, path: join(outside, 'api.Dockerfile') });
  });

  it('treats a Dockerfile named `..x` inside the context as inside', async () => {
    const root = tree({ '..Dockerfile': 'FROM scratch\n' });
    expect(await listContext(root, '..Dockerfile')).toEqual({ entries: ['..Dockerfile'], dockerfile: '..Dockerfile' });
  });
});

describe('listContext errors', () => {
  it('names a missing context', async () => {
    const missing = join(tree(), 'nope');
    const error = await listContext(missing, 'Dockerfile').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildInputError);
    expect(error).toMatchObject({ code: 'BUILD_CONTEXT_NOT_FOUND', kind: 'usage', message: `The build context ${missing} does not exist` });
  });

  it('refuses a file as context', async () => {
    const root = tree({ 'file.txt': 'x' });
    await expect(listContext(join(root, 'file.txt'), 'Dockerfile')).rejects.toMatchObject({
      code: 'BUILD_CONTEXT_NOT_DIRECTORY',
      message: `The build context ${join(root, 'file.txt')} is not a directory`,
    });
  });

  it.each(['https://github.com/org/repo.git#main:app', 'git@github.com:org/repo.git', 'git://host/repo', 'ssh://git@host/repo', 'github.com/org/repo'])(
    'refuses the remote context %s',
    async (context) => {
      expect(isRemoteContext(context)).toBe(true);
      await expect(listContext(context, 'Dockerfile')).rejects.toMatchObject({ code: 'BUILD_CONTEXT_REMOTE', hint: expect.stringContaining('clone') as string });
    },
  );

  it('does not take local paths for remote contexts', () => {
    expect(['/srv/app', './app', 'app', 'github.company/app', 'C:/app'].map(isRemoteContext)).toEqual([false, false, false, false, false]);
  });

  it('names a missing Dockerfile by its full path and points at build.context / build.dockerfile', async () => {
    const root = tree({ 'main.go': 'x' });
    await expect(listContext(root, 'docker/Dockerfile')).rejects.toMatchObject({
      code: 'DOCKERFILE_NOT_FOUND',
      message: `The Dockerfile ${join(root, 'docker/Dockerfile')} does not exist`,
      hint: 'Check `build.context` and `build.dockerfile` in the Compose file.',
    });
    await expect(listContext(root, '/nowhere/Dockerfile')).rejects.toMatchObject({ code: 'DOCKERFILE_NOT_FOUND', message: 'The Dockerfile /nowhere/Dockerfile does not exist' });
  });

  it('refuses a directory as Dockerfile', async () => {
    const root = tree({ 'main.go': 'x' });
    mkdirSync(join(root, 'Dockerfile'));
    await expect(listContext(root, 'Dockerfile')).rejects.toMatchObject({ code: 'DOCKERFILE_NOT_FOUND', message: `The Dockerfile ${join(root, 'Dockerfile')} is not a file` });
  });
});
