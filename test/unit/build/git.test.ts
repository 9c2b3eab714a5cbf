import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitInfo, resolveRef, stripCredentials } from '../../../src/build/git.js';
import { tree, write } from './temp-tree.js';

/** Runs git in `dir` with a fixed identity, no signing, and no user or system configuration. */
function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], {
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  }).trim();
}

/** A repository with one commit: app/ (the build context) and docs/. */
function repository(): string {
  const dir = tree({ 'app/main.js': 'v1\n', 'app/.gitignore': 'node_modules/\n', 'docs/README.md': 'docs\n' });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

describe('gitInfo', () => {
  it('is undefined outside a repository, and for a directory that does not exist', async () => {
    const dir = tree({ 'a.txt': 'a' });
    expect(await gitInfo(dir)).toBeUndefined();
    expect(await gitInfo(join(dir, 'missing'))).toBeUndefined();
  });

  it('is undefined for a repository without a commit yet', async () => {
    const dir = tree({ 'a.txt': 'a' });
    git(dir, 'init', '-q');
    expect(await gitInfo(dir)).toBeUndefined();
  });

  it('reads the commit, describe and a clean tree; no tag, no origin', async () => {
    const dir = repository();
    const commit = git(dir, 'rev-parse', 'HEAD');
    expect(await gitInfo(dir, join(dir, 'app'))).toEqual({ commit, describe: commit.slice(0, 7), dirty: false });
  });

  it('reads the tag at HEAD, then the describe once HEAD moved past it', async () => {
    const dir = repository();
    git(dir, 'tag', '-a', 'v1.2.0', '-m', 'release');
    expect(await gitInfo(dir)).toMatchObject({ tag: 'v1.2.0', describe: 'v1.2.0' });
    write(dir, 'app/main.js', 'v2\n');
    git(dir, 'commit', '-q', '-am', 'second');
    const info = await gitInfo(dir);
    const short = git(dir, 'rev-parse', '--short=7', 'HEAD');
    expect(info).toEqual({ commit: git(dir, 'rev-parse', 'HEAD'), describe: `v1.2.0-1-g${short}`, dirty: false });
  });

  it('reads a lightweight tag too', async () => {
    const dir = repository();
    git(dir, 'tag', 'build-7');
    expect((await gitInfo(dir))?.tag).toBe('build-7');
  });

  it('with the sent entries, counts only changes to files that go into the image, and deletions', async () => {
    const dir = repository();
    const context = join(dir, 'app');
    const sent = new Set(['.gitignore', 'main.js']);
    write(dir, 'app/notes.txt', 'left out by .dockerignore\n');
    expect((await gitInfo(dir, context, sent))?.dirty).toBe(false);
    expect((await gitInfo(dir, context))?.dirty).toBe(true);
    write(dir, 'app/new/part.js', 'sent\n');
    expect((await gitInfo(dir, context, new Set([...sent, 'new/part.js'])))?.dirty).toBe(true);
    expect((await gitInfo(dir, context, sent))?.dirty).toBe(false);
    write(dir, 'app/main.js', 'v2\n');
    expect((await gitInfo(dir, context, sent))?.dirty).toBe(true);
    git(dir, 'checkout', '-q', '--', 'app/main.js');
    git(dir, 'rm', '-q', '--cached', 'app/.gitignore');
    expect((await gitInfo(dir, context, new Set(['main.js'])))?.dirty).toBe(true);
  });

  it('counts changes inside the context only: modified and untracked files, not ignored ones', async () => {
    const dir = repository();
    const context = join(dir, 'app');
    write(dir, 'docs/notes.md', 'untracked, outside the context');
    write(dir, 'docs/README.md', 'modified, outside the context');
    write(dir, 'app/node_modules/x.js', 'ignored, inside the context');
    expect((await gitInfo(dir, context))?.dirty).toBe(false);
    expect((await gitInfo(dir))?.dirty).toBe(true);

    write(dir, 'app/new.js', 'untracked, inside');
    expect((await gitInfo(dir, context))?.dirty).toBe(true);
    git(dir, 'add', 'app/new.js');
    git(dir, 'commit', '-q', '-m', 'add');
    expect((await gitInfo(dir, context))?.dirty).toBe(false);
    write(dir, 'app/main.js', 'modified, inside');
    expect((await gitInfo(dir, context))?.dirty).toBe(true);
  });

  it('sees untracked files even when the user hides them from git status', async () => {
    const dir = repository();
    git(dir, 'config', 'status.showUntrackedFiles', 'no');
    write(dir, 'app/new.js', 'untracked');
    expect((await gitInfo(dir, join(dir, 'app')))?.dirty).toBe(true);
  });

  it('reports the origin URL without the token in it', async () => {
    const dir = repository();
    git(dir, 'remote', 'add', 'origin', 'https://x-access-token:ghp_secret123@github.com/acme/shop.git');
    expect((await gitInfo(dir))?.source).toBe('https://github.com/acme/shop.git');
  });
});

describe('resolveRef', () => {
  it('follows a tag that moved, peels annotated tags, and knows nothing of unknown refs', async () => {
    const dir = repository();
    const first = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'tag', 'v1');
    git(dir, 'tag', '-a', 'v1-annotated', '-m', 'release');
    expect(await resolveRef(dir, 'v1')).toBe(first);
    expect(await resolveRef(dir, 'v1-annotated')).toBe(first);

    write(dir, 'app/main.js', 'v2\n');
    git(dir, 'commit', '-q', '-am', 'second');
    const second = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'tag', '-f', 'v1');
    expect(await resolveRef(dir, 'v1')).toBe(second);
    expect(await resolveRef(dir, 'main')).toBe(second);
    expect(await resolveRef(dir, first.slice(0, 10))).toBe(first);

    expect(await resolveRef(dir, 'v9')).toBeUndefined();
    expect(await resolveRef(dir, '--help')).toBeUndefined();
    expect(await resolveRef(tree(), 'v1')).toBeUndefined();
  });
});

describe('stripCredentials', () => {
  it.each([
    ['https://user:token@github.com/acme/shop.git', 'https://github.com/acme/shop.git'],
    ['https://ghp_abc123@github.com/acme/shop.git', 'https://github.com/acme/shop.git'],
    ['http://user:p@ss@gitlab.local:8080/acme/shop', 'http://gitlab.local:8080/acme/shop'],
    ['https://github.com/acme/shop.git', 'https://github.com/acme/shop.git'],
    ['ssh://git:secret@host.example:2222/acme/shop.git', 'ssh://git@host.example:2222/acme/shop.git'],
    ['ssh://git@host.example/acme/shop.git', 'ssh://git@host.example/acme/shop.git'],
    ['git@github.com:acme/shop.git', 'git@github.com:acme/shop.git'],
    ['deploy:token@github.com:acme/shop.git', 'github.com:acme/shop.git'],
    ['/srv/git/shop.git', '/srv/git/shop.git'],
    ['file:///srv/git/shop.git', 'file:///srv/git/shop.git'],
  ])('%s → %s', (url, expected) => {
    expect(stripCredentials(url)).toBe(expected);
  });
});
