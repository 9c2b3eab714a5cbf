/**
 * `flotilla build` in a temporary git repository, against the real Docker Engine: an image is
 * built once per version, labelled with the commit and tag it came from (over its base image's
 * own labels), run by `up`, and traced back from its container.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { removeByLabel, testLabels, testRunId } from './helpers/cleanup.js';

const driver = createDockerDriver({ env: process.env });
const env = cliEnv(testRunId);
const project = `ft${testRunId.slice(0, 8)}-build`.toLowerCase();
const base = `ft${testRunId.slice(0, 8)}-base:1`.toLowerCase();
const repo = mkdtempSync(join(tmpdir(), 'flotilla-build-'));

const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
const flotilla = (...args: string[]) => runCli(['-p', project, ...args], { cwd: repo, env });
const write = (path: string, text: string) => writeFileSync(join(repo, path), text);

async function labelsOf(reference: string): Promise<Record<string, string>> {
  const image = await driver.inspectImage(reference);
  if (!image) throw new Error(`no image ${reference}`);
  return image.labels;
}

beforeAll(async () => {
  // A base image that carries OCI labels of its own, as official images do.
  const baseDir = mkdtempSync(join(tmpdir(), 'flotilla-base-'));
  writeFileSync(join(baseDir, 'Dockerfile'), 'FROM debian:bookworm-slim\nLABEL org.opencontainers.image.revision=base-revision org.opencontainers.image.source=https://example.com/base\n');
  await driver.buildImage({ context: baseDir, dockerfile: 'Dockerfile', entries: ['Dockerfile'], args: {}, labels: testLabels(), tags: [base] });

  mkdirSync(join(repo, 'app'));
  write('compose.yaml', `services:\n  app:\n    build: ./app\n    init: true\n    command: sleep infinity\n`);
  write('app/Dockerfile', `FROM ${base}\nCOPY hello.txt /hello.txt\n`);
  write('app/hello.txt', 'hello 1\n');
  write('app/.dockerignore', 'notes.txt\n');
  write('.gitignore', '.flotilla/\n');
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'empty');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'app 1');
  git('tag', 'v1.0.0');
  git('remote', 'add', 'origin', 'https://builder:s3cr3t-token@example.com/team/app.git');
});

afterAll(async () => {
  await flotilla('down');
  await removeByLabel(testRunId);
});

describe('flotilla build', () => {
  let firstImage = '';

  it('builds an image labelled with its commit, tag and source, over the base image’s own labels', async () => {
    const result = await flotilla('build');
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/app +built +[0-9a-f]{12} +ft\S+-app:fl-[0-9a-f]{20}/);
    const labels = await labelsOf(`${project}-app`);
    expect(labels['org.opencontainers.image.revision']).toBe(git('rev-parse', 'HEAD'));
    expect(labels['org.opencontainers.image.version']).toBe('v1.0.0');
    expect(labels['org.opencontainers.image.source']).toBe('https://example.com/team/app.git');
    expect(labels['dev.flotilla.build.dirty']).toBe('false');
    expect(labels['dev.flotilla.build.base-image']).toBe(base);
    expect(JSON.stringify(labels)).not.toContain('s3cr3t-token');
    firstImage = (await driver.inspectImage(`${project}-app`))?.id ?? '';
  });

  it('skips the build when nothing changed, including a file .dockerignore leaves out', async () => {
    write('app/notes.txt', 'not part of the image\n');
    const result = await flotilla('build');
    expect(result.code).toBe(0);
    expect(result.stderr.trim()).toBe(`Nothing to build: 1 image of ${project} up to date.`);
  });

  it('rebuilds when one file changed, warns that the tree is dirty, and refuses with --require-clean', async () => {
    write('app/hello.txt', 'hello 2\n');
    const refused = await flotilla('build', '--require-clean');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('uncommitted changes in the build context of app');
    const result = await flotilla('build');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning building from uncommitted changes: app');
    const labels = await labelsOf(`${project}-app`);
    expect(labels['dev.flotilla.build.dirty']).toBe('true');
    expect((await driver.inspectImage(`${project}-app`))?.id).not.toBe(firstImage);
  });

  it('keeps the previous image when a build fails, and shows the failing output', async () => {
    const before = (await driver.inspectImage(`${project}-app`))?.id;
    write('app/Dockerfile', `FROM ${base}\nRUN echo "migration exploded" && exit 3\n`);
    const result = await flotilla('build');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('migration exploded');
    expect((await driver.inspectImage(`${project}-app`))?.id).toBe(before);
    write('app/Dockerfile', `FROM ${base}\nCOPY hello.txt /hello.txt\n`);
  });

  it('runs the built version with up and traces the container back to its tagged commit', async () => {
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'app 2');
    git('tag', 'v1.1.0');
    const commit = git('rev-parse', 'HEAD');
    const up = await flotilla('up');
    expect(up.code).toBe(0);
    const container = (await driver.observe(project)).containers[0];
    const image = await driver.inspectImage(container?.imageId ?? '');
    expect(image?.labels['org.opencontainers.image.revision']).toBe(commit);
    expect(image?.labels['org.opencontainers.image.version']).toBe('v1.1.0');

    const ps = await flotilla('ps');
    expect(ps.stdout).toContain(`v1.1.0 (${commit.slice(0, 12)})`);
    const trace = await flotilla('trace', `${project}-app-1`);
    expect(trace.code).toBe(0);
    expect(trace.stdout).toContain(commit);
    expect(trace.stdout).toContain('v1.1.0');
    const reverse = await flotilla('trace', '--commit', 'v1.1.0');
    expect(reverse.code).toBe(0);
    expect(reverse.stdout).toContain(`${project}-app-1`);
    const provenance = await flotilla('provenance', `${project}-app`, '--output', 'json');
    expect(JSON.parse(provenance.stdout)).toMatchObject({ predicateType: 'https://slsa.dev/provenance/v1' });
    expect((await flotilla('up')).stderr.trim()).toBe(`Nothing to do: 1 service of ${project} up to date.`);
  });
});
