/**
 * `flotilla trace` and `flotilla provenance` against the real Docker Engine, through the built CLI.
 * In a temporary git repository an image is built through the driver with the labels a Flotilla
 * build computes, and a container runs it; the CLI then walks the chain back to the commit and
 * tag, and from the tag forward to the container. `flotilla build` is not involved: the build
 * record, when a test wants one, is written to the state store directly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitInfo } from '../../src/build/git.js';
import { imageLabels } from '../../src/build/oci-labels.js';
import { provenanceStatement } from '../../src/build/statement.js';
import type { BuildRecord, GitInfo } from '../../src/build/types.js';
import { computeBuildVersion } from '../../src/build/version.js';
import { openStateStore } from '../../src/provenance/index.js';
import { createDockerDriver } from '../../src/runtime/docker/index.js';
import { Label } from '../../src/runtime/labels.js';
import { removeByLabel, testLabels, testRunId } from './helpers/cleanup.js';
import { CLI, cliEnv, runCli } from './helpers/cli.js';
import { containerRequest, IMAGE, project, serviceSpec } from './helpers/requests.js';

const driver = createDockerDriver({ env: process.env });
const env = cliEnv(testRunId);
const reference = `${project}-app:latest`;
const dirs: string[] = [];

/** What beforeAll built: the repository, the image, its build record, and the container running it. */
let repo: string;
let git: GitInfo;
let record: BuildRecord;
let container: string;

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-trace-it-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

function gitIn(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=Flotilla Test', '-c', 'user.email=test@flotilla.dev', '-c', 'tag.gpgSign=false', '-c', 'commit.gpgSign=false', ...args], {
    encoding: 'utf8',
  }).trim();
}

/** Builds `dir` as service `app` of the test project, labelled as `flotilla build` labels it; returns the record it would write. */
async function build(dir: string, tag: string): Promise<BuildRecord> {
  const startedOn = new Date();
  const info = await gitInfo(dir);
  const spec = { context: dir, dockerfile: 'Dockerfile', args: { NPM_TOKEN: 'never-recorded' }, labels: {} };
  const version = await computeBuildVersion(spec, async (ref) => {
    const image = await driver.inspectImage(ref);
    return image && { id: image.id };
  });
  const labels = {
    ...testLabels(),
    ...imageLabels({ git: info, version: version.version, baseImages: version.baseImages, finalBase: IMAGE, project, service: 'app', created: startedOn }),
  };
  const image = await driver.buildImage({ context: dir, entries: version.entries, dockerfile: version.dockerfile, args: spec.args, labels, tags: [tag] });
  return {
    imageId: image.id,
    repoDigests: image.repoDigests,
    project,
    service: 'app',
    tags: [tag],
    version: version.version,
    git: info,
    baseImages: version.baseImages,
    createdAt: startedOn.toISOString(),
    statement: provenanceStatement({ project, service: 'app', imageId: image.id, tags: [tag], build: spec, version, git: info, startedOn, finishedOn: new Date() }),
  };
}

function trace(...args: string[]) {
  return runCli(['trace', ...args], { cwd: repo, env });
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`The built CLI ${CLI} is missing: run \`npm run build\` first.`);
  repo = tempDir({
    'compose.yaml': `name: ${project}\nservices:\n  app:\n    build: .\n    image: ${reference}\n`,
    Dockerfile: `FROM ${IMAGE}\nARG NPM_TOKEN\nCOPY compose.yaml /app/\nCMD ["sleep", "infinity"]\n`,
  });
  gitIn(repo, 'init', '--quiet');
  gitIn(repo, 'add', '.');
  gitIn(repo, 'commit', '--quiet', '-m', 'first');
  gitIn(repo, 'tag', '-a', 'v1.0.0', '-m', 'release 1.0.0');
  record = await build(repo, reference);
  git = record.git as GitInfo;
  const request = containerRequest('app-1', serviceSpec({ name: 'app', command: ['sleep', 'infinity'] }), { image: record.imageId });
  request.labels = { ...request.labels, [Label.service]: 'app', [Label.image]: reference };
  const id = await driver.createContainer(request);
  await driver.startContainer(id);
  container = request.name;
});

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await removeByLabel(testRunId);
});

describe('flotilla trace', () => {
  it('walks from a container to the commit and tag, from the image labels when the project has no record', async () => {
    expect(git).toMatchObject({ tag: 'v1.0.0', dirty: false });
    const result = await trace(container);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^service +\\[engine\\] +app \\(project ${project}\\)$`, 'm'));
    expect(result.stdout).toMatch(new RegExp(`^container +\\[engine\\] +${container} +[0-9a-f]{12} +running$`, 'm'));
    expect(result.stdout).toContain(`${record.imageId.slice(0, 19)}  ${reference}`);
    expect(result.stdout).toMatch(new RegExp(`^ {2}commit +\\[labels\\] +${git.commit} +\\(clean\\)$`, 'm'));
    expect(result.stdout).toMatch(/^ {2}tag +\[labels\+git\] +v1\.0\.0 \(still points to this commit\)$/m);
    expect(result.stdout).toMatch(new RegExp(`^ {2}base +\\[labels\\] +${IMAGE.replace('.', '\\.')} +sha256:[0-9a-f]{12}$`, 'm'));
    expect(result.stdout).toContain("[labels]  the image's own labels");
  });

  it('finds the container from the tag, and from a commit prefix', async () => {
    const byTag = await trace('--commit', 'v1.0.0');
    expect(byTag.code).toBe(0);
    expect(byTag.stdout).toMatch(new RegExp(`^${container} +app +${project} +${reference} .* v1\\.0\\.0 +${git.commit.slice(0, 12)} +labels$`, 'm'));
    const byCommit = await trace('--commit', git.commit.slice(0, 8), '--output', 'json');
    expect(byCommit.code).toBe(0);
    expect(JSON.parse(byCommit.stdout)).toMatchObject({ resolved: git.commit, containers: [{ container, service: 'app', project, commit: git.commit, tag: 'v1.0.0' }] });
  });

  it('reads the chain from the store once the build is recorded, and prints the provenance statement', async () => {
    // Where stateDirectory(stack) puts a project's state, as `flotilla build` would record it.
    const store = openStateStore(join(repo, '.flotilla'));
    try {
      store.recordBuild(record);
    } finally {
      store.close();
    }
    const result = await trace(container, '--output', 'json');
    expect(result.code).toBe(0);
    const [image] = (JSON.parse(result.stdout) as { images: { build: { from: string }; git: { commit: string; tag: string }; tag: { status: string } }[] }).images;
    expect(image).toMatchObject({ build: { from: 'store' }, git: { commit: git.commit, tag: 'v1.0.0' }, tag: { status: 'unchanged' } });

    const pretty = await runCli(['provenance', reference], { cwd: repo, env });
    expect(pretty.code).toBe(0);
    expect(JSON.parse(pretty.stdout)).toEqual(record.statement);
    expect(pretty.stdout).toContain('"args": {\n          "NPM_TOKEN": "[redacted]"');
    const compact = await runCli(['provenance', record.imageId.slice(7, 19), '--output', 'json'], { cwd: repo, env });
    expect(compact.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(compact.stdout)).toEqual(record.statement);
  });

  it('says the tag moved, and where it points now', async () => {
    writeFileSync(join(repo, 'CHANGELOG'), 'moved\n');
    gitIn(repo, 'add', 'CHANGELOG');
    gitIn(repo, 'commit', '--quiet', '-m', 'second');
    gitIn(repo, 'tag', '-f', '-a', 'v1.0.0', '-m', 'release 1.0.0 again');
    const now = gitIn(repo, 'rev-parse', 'HEAD');
    const result = await trace(container);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^ {2}commit +\\[store\\] +${git.commit} +\\(clean\\)$`, 'm'));
    expect(result.stdout).toContain(`v1.0.0 MOVED: it now points to ${now.slice(0, 12)}, not to the commit this image was built from`);
    // The container still runs what was built at the tag then: the record says so.
    const byTag = await trace('--commit', 'v1.0.0', '--output', 'json');
    expect(JSON.parse(byTag.stdout)).toMatchObject({ resolved: now, containers: [{ container, commit: git.commit, from: 'store' }] });
  });

  it('says plainly when an image was built outside a git repository', async () => {
    const plain = tempDir({ Dockerfile: `FROM ${IMAGE}\nCMD ["true"]\n` });
    const outside = await build(plain, `${project}-plain:latest`);
    expect(outside.git).toBeUndefined();
    const result = await trace(`${project}-plain:latest`);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}git +\[labels\] +no git information: the image's revision label \(org\.opencontainers\.image\.revision\) is empty/m);
    const provenance = await runCli(['provenance', `${project}-plain:latest`], { cwd: repo, env });
    expect(provenance.code).toBe(1);
    expect(provenance.stderr).toContain('the image exists on this engine, but was probably built elsewhere or not by Flotilla');
    expect(provenance.stderr).toContain(`flotilla trace ${project}-plain:latest`);
  });

  it('exits 1 naming what it tried when nothing matches, and 2 without a target or with two', async () => {
    const missing = await trace(`${project}-nothing`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`Nothing matches "${project}-nothing": it is not a container (name, id or id prefix) on the engine, nor a service of project ${project}`);
    // Upper case cannot be an image reference: the Engine's 400 for it is "no such image" too.
    expect((await trace('No_Such_Container')).stderr).toContain('Nothing matches "No_Such_Container"');
    const none = await trace();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('trace needs a TARGET (container, service, image) or --commit REF');
    expect((await trace(container, '--commit', 'v1.0.0')).code).toBe(2);
  });
});
