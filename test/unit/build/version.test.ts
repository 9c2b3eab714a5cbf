import { createHash } from 'node:crypto';
import { chmodSync, renameSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listContext } from '../../../src/build/context-files.js';
import { hashContext } from '../../../src/build/context-hash.js';
import type { BaseImage } from '../../../src/build/types.js';
import { buildVersion, computeBuildVersion, dirtyVersion, type ImageResolver, unpinnedBaseImages } from '../../../src/build/version.js';
import { tree, write } from './temp-tree.js';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

const DOCKERFILE = 'ARG BASE=node:20\nFROM ${BASE} AS build\nRUN make\nFROM debian:bookworm-slim\nCOPY --from=build /out /app\n';

/** A small context: files in a few directories, an executable, a link, an ignored file. */
function context(): string {
  const root = tree({
    Dockerfile: DOCKERFILE,
    '.dockerignore': '*.log\n',
    'src/main.js': 'console.log("hi")\n',
    'src/lib/util.js': 'export const x = 1;\n',
    'bin/run': '#!/bin/sh\nexec node src/main.js\n',
    'debug.log': 'ignored',
    'README.md': '# app\n',
  });
  chmodSync(join(root, 'bin/run'), 0o755);
  symlinkSync('src/main.js', join(root, 'main.js'));
  return root;
}

const images: Record<string, { id: string; digest?: string }> = {
  'node:20': { id: 'sha256:aaaa', digest: 'node@sha256:1111' },
  'node:22': { id: 'sha256:cccc' },
  'debian:bookworm-slim': { id: 'sha256:bbbb' },
};
const resolver =
  (overrides: Record<string, { id: string; digest?: string } | undefined> = {}): ImageResolver =>
  (reference) =>
    Promise.resolve(reference in overrides ? overrides[reference] : images[reference]);

const versionOf = async (root: string, build: Partial<Parameters<typeof computeBuildVersion>[0]> = {}, resolve = resolver()): Promise<string> =>
  (await computeBuildVersion({ context: root, dockerfile: 'Dockerfile', args: {}, ...build }, resolve)).version;

describe('hashContext', () => {
  it('hashes path, type, executable bit, content hash and link target of every entry, in sorted order', async () => {
    const root = context();
    const big = Buffer.alloc(1_300_000, 7); // larger than one read chunk: streamed in pieces
    write(root, 'assets/big.bin', big);
    const { entries } = await listContext(root, 'Dockerfile');
    expect(entries).toEqual(['.dockerignore', 'Dockerfile', 'README.md', 'assets', 'assets/big.bin', 'bin', 'bin/run', 'main.js', 'src', 'src/lib', 'src/lib/util.js', 'src/main.js']);
    const file = (path: string, content: string | Buffer, mode = '-'): string => `${path}\0f\0${mode}\0${sha256(content)}\0`;
    const expected = sha256(
      [
        file('.dockerignore', '*.log\n'),
        file('Dockerfile', DOCKERFILE),
        file('README.md', '# app\n'),
        'assets\0d\0',
        file('assets/big.bin', big),
        'bin\0d\0',
        file('bin/run', '#!/bin/sh\nexec node src/main.js\n', 'x'),
        'main.js\0l\0src/main.js\0',
        'src\0d\0',
        'src/lib\0d\0',
        file('src/lib/util.js', 'export const x = 1;\n'),
        file('src/main.js', 'console.log("hi")\n'),
      ].join(''),
    );
    // Given in any order, the entries are hashed sorted.
    expect(await hashContext(root, [...entries].reverse())).toBe(expected);
  });

  it('includes an outside Dockerfile under its generated name, as a plain file', async () => {
    const outside = tree({ 'api.Dockerfile': 'FROM scratch\n' });
    chmodSync(join(outside, 'api.Dockerfile'), 0o755);
    const root = tree({ 'a.txt': 'a' });
    const listing = await listContext(root, join(outside, 'api.Dockerfile'));
    const name = listing.dockerfile;
    expect(await hashContext(root, listing.entries, listing.dockerfileOutside)).toBe(
      sha256(`${name}\0f\0-\0${sha256('FROM scratch\n')}\0a.txt\0f\0-\0${sha256('a')}\0`),
    );
  });

  it('fails with a clear error when a listed file vanished', async () => {
    const root = tree({ 'a.txt': 'a' });
    await expect(hashContext(root, ['a.txt', 'gone.txt'])).rejects.toMatchObject({
      code: 'BUILD_CONTEXT_UNREADABLE',
      message: `Cannot read ${join(root, 'gone.txt')} in the build context (ENOENT)`,
    });
  });

  it('is the same for an empty list as for an empty input', async () => {
    expect(await hashContext(tree(), [])).toBe(sha256(''));
  });
});

describe('buildVersion', () => {
  const inputs = {
    contextDigest: 'c'.repeat(64),
    dockerfileContent: 'FROM node:20\n',
    args: { B: '2', A: '1' },
    baseImages: [{ reference: 'node:20', id: 'sha256:aaaa', digest: 'node@sha256:1111' }] as BaseImage[],
  };

  it('is the sha256 of a canonical JSON: keys sorted, base images by id', () => {
    const canonical =
      '{"args":{"A":"1","B":"2"},"baseImages":[{"image":"sha256:aaaa","reference":"node:20"}],' +
      `"context":"${'c'.repeat(64)}","dockerfile":"${sha256('FROM node:20\n')}","scheme":"flotilla.build-version/1"}`;
    expect(buildVersion(inputs)).toBe(sha256(canonical));
  });

  it('does not depend on the order of args or base images, nor on an empty target or empty labels', () => {
    const reordered = {
      ...inputs,
      args: { A: '1', B: '2' },
      baseImages: [{ reference: 'z:1', id: 'sha256:z' }, ...inputs.baseImages],
    };
    const same = { ...inputs, baseImages: [...inputs.baseImages, { reference: 'z:1', id: 'sha256:z' }] };
    expect(buildVersion(reordered)).toBe(buildVersion(same));
    expect(buildVersion({ ...inputs, target: '', labels: {} })).toBe(buildVersion(inputs));
  });

  it('counts a base image by its id, not its digest or tag; an absent one is marked unresolved', () => {
    expect(buildVersion({ ...inputs, baseImages: [{ reference: 'node:20', id: 'sha256:aaaa' }] })).toBe(buildVersion(inputs));
    expect(buildVersion({ ...inputs, baseImages: [{ reference: 'node:20', id: 'sha256:dddd' }] })).not.toBe(buildVersion(inputs));
    const absent = { ...inputs, baseImages: [{ reference: 'node:20' }] };
    const canonical =
      '{"args":{"A":"1","B":"2"},"baseImages":[{"reference":"node:20","unresolved":true}],' +
      `"context":"${'c'.repeat(64)}","dockerfile":"${sha256('FROM node:20\n')}","scheme":"flotilla.build-version/1"}`;
    expect(buildVersion(absent)).toBe(sha256(canonical));
    expect(unpinnedBaseImages(absent)).toEqual(['node:20']);
    expect(unpinnedBaseImages(inputs)).toEqual([]);
  });
});

describe('computeBuildVersion', () => {
  it('gives the same version for the same inputs, and reports what it read', async () => {
    const root = context();
    const first = await computeBuildVersion({ context: root, dockerfile: 'Dockerfile', args: {} }, resolver());
    expect(first).toEqual({
      version: first.version,
      entries: ['.dockerignore', 'Dockerfile', 'README.md', 'bin', 'bin/run', 'main.js', 'src', 'src/lib', 'src/lib/util.js', 'src/main.js'],
      dockerfile: 'Dockerfile',
      contextDigest: await hashContext(root, first.entries),
      baseImages: [
        { reference: 'node:20', id: 'sha256:aaaa', digest: 'node@sha256:1111' },
        { reference: 'debian:bookworm-slim', id: 'sha256:bbbb' },
      ],
      finalBase: 'debian:bookworm-slim',
    });
    expect(first.version).toBe(
      buildVersion({ contextDigest: first.contextDigest, dockerfileContent: DOCKERFILE, args: {}, baseImages: first.baseImages }),
    );
    expect(await versionOf(root)).toBe(first.version);
  });

  it('does not depend on the order files were created in, nor on modification times', async () => {
    const one = context();
    const two = tree({
      'README.md': '# app\n',
      'src/main.js': 'console.log("hi")\n',
      'bin/run': '#!/bin/sh\nexec node src/main.js\n',
      'src/lib/util.js': 'export const x = 1;\n',
      '.dockerignore': '*.log\n',
      Dockerfile: DOCKERFILE,
      'debug.log': 'ignored, and different',
    });
    chmodSync(join(two, 'bin/run'), 0o700);
    symlinkSync('src/main.js', join(two, 'main.js'));
    utimesSync(join(two, 'README.md'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(await versionOf(two)).toBe(await versionOf(one));
  });

  it('ignores files excluded by .dockerignore', async () => {
    const root = context();
    const before = await versionOf(root);
    write(root, 'debug.log', 'changed');
    write(root, 'new.log', 'added');
    expect(await versionOf(root)).toBe(before);
  });

  const changes: [string, (root: string) => void][] = [
    ['one byte of one file', (root) => write(root, 'src/lib/util.js', 'export const x = 2;\n')],
    ['a file added', (root) => write(root, 'src/new.js', '')],
    ['a file renamed', (root) => renameSync(join(root, 'README.md'), join(root, 'README.txt'))],
    ['a file removed', (root) => rmSync(join(root, 'README.md'))],
    ['the executable bit', (root) => chmodSync(join(root, 'src/main.js'), 0o755)],
    ['a link target', (root) => (rmSync(join(root, 'main.js')), symlinkSync('src/lib/util.js', join(root, 'main.js')))],
    ['a file excluded no more', (root) => write(root, '.dockerignore', '*.tmp\n')],
    ['the Dockerfile', (root) => write(root, 'Dockerfile', `${DOCKERFILE}# a comment\n`)],
  ];
  it.each(changes)('changes with %s', async (_what, change) => {
    const root = context();
    const before = await versionOf(root);
    change(root);
    expect(await versionOf(root)).not.toBe(before);
  });

  it('changes with an arg, the target, a label, or a base image id', async () => {
    const root = context();
    const before = await versionOf(root);
    const others = [
      await versionOf(root, { args: { UNUSED: '1' } }),
      await versionOf(root, { args: { BASE: 'node:22' } }),
      await versionOf(root, { target: 'build' }),
      await versionOf(root, { labels: { team: 'shop' } }),
      await versionOf(root, {}, resolver({ 'debian:bookworm-slim': { id: 'sha256:bbbc' } })),
      await versionOf(root, {}, resolver({ 'node:20': undefined })),
    ];
    expect(new Set([before, ...others]).size).toBe(others.length + 1);
  });

  it('resolves base images in parallel and marks absent ones', async () => {
    const root = context();
    const asked: string[] = [];
    let inFlight = 0;
    let most = 0;
    const slow: ImageResolver = async (reference) => {
      asked.push(reference);
      most = Math.max(most, ++inFlight);
      await new Promise((done) => setTimeout(done, 20));
      inFlight--;
      return reference === 'node:20' ? undefined : images[reference];
    };
    const version = await computeBuildVersion({ context: root, dockerfile: 'Dockerfile', args: {} }, slow);
    expect(asked).toEqual(['node:20', 'debian:bookworm-slim']);
    expect(most).toBe(2);
    expect(version.baseImages).toEqual([{ reference: 'node:20' }, { reference: 'debian:bookworm-slim', id: 'sha256:bbbb' }]);
    expect(unpinnedBaseImages(version)).toEqual(['node:20']);
  });

  it('names the Dockerfile in parse errors', async () => {
    const root = tree({ Dockerfile: '# nothing here\n' });
    await expect(versionOf(root)).rejects.toMatchObject({ code: 'DOCKERFILE_EMPTY', message: `The Dockerfile ${join(root, 'Dockerfile')} is empty` });
  });
});

describe('dirtyVersion', () => {
  it('gives the same inputs from a dirty tree a version of their own, stable across runs', () => {
    const clean = buildVersion({ contextDigest: 'c', dockerfileContent: 'FROM scratch\n', args: {}, baseImages: [] });
    expect(dirtyVersion(clean)).not.toBe(clean);
    expect(dirtyVersion(clean)).toBe(dirtyVersion(clean));
    expect(dirtyVersion(clean)).toMatch(/^[0-9a-f]{64}$/);
  });
});
