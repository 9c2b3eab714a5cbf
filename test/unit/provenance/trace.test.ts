import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../../src/core/errors.js';
import { AmbiguousTargetError, trace, traceText, TargetNotFoundError } from '../../../src/provenance/index.js';
import { buildRecord, imageId, sha } from './records.js';
import { addContainer, builtLabels, world, type World } from './world.js';

let w: World;
afterEach(() => w.dispose());

const V1 = { commit: sha('abc1'), tag: 'v1.0.0', describe: 'v1.0.0', dirty: false, source: 'https://example.com/shop.git' };

/** The shop's api built here at v1.0.0 and running as shop-api-1. */
function builtHere(): World {
  w = world();
  const id = imageId('aa11');
  w.driver.addImage('shop-api:latest', id, { labels: builtLabels(V1) });
  w.store.recordBuild(buildRecord({ imageId: id, git: V1 }));
  w.refs.set('v1.0.0', V1.commit);
  addContainer(w.driver, { id: 'c0ffee0000000000000000000000000000000000000000000000000000000001', name: 'shop-api-1', imageId: id });
  return w;
}

async function failure(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

describe('trace from a container', () => {
  it('walks container → image → build → commit and tag → base image, from the store', async () => {
    builtHere();
    const result = await trace('shop-api-1', w);
    expect(result).toMatchObject({ matched: 'container', project: 'shop', service: 'api' });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({
      id: imageId('aa11'),
      reference: 'shop-api:latest',
      build: { from: 'store', version: buildRecord().version },
      git: { from: 'store', commit: V1.commit, tag: 'v1.0.0', dirty: false },
      tag: { tag: 'v1.0.0', status: 'unchanged', now: V1.commit },
      baseImages: [{ from: 'store', reference: 'node:20-bookworm-slim' }],
    });
    expect(traceText(result)).toBe(
      [
        'service    [engine]     api (project shop)',
        'container  [engine]     shop-api-1  c0ffee000000  running',
        'image      [engine]     sha256:aa1100000000  shop-api:latest',
        '  digest   [engine]     none (a local build, never pushed)',
        '  build    [store]      version 0123456789abcdef0123, built 2024-05-01T10:01:00.000Z',
        '  commit   [store]      abc1000000000000000000000000000000000000  (clean)',
        '  tag      [store+git]  v1.0.0 (still points to this commit)',
        '  source   [store]      https://example.com/shop.git',
        '  base     [store]      node:20-bookworm-slim  sha256:bb2200000000',
        '',
        '[engine]  what the Docker Engine reports now',
        "[store]   the record of the build in this project's state database (.flotilla/state.db)",
        "[git]     the project's git repository now",
        '',
      ].join('\n'),
    );
  });

  it('finds a container by a unique id prefix', async () => {
    builtHere();
    expect((await trace('c0ffee', w)).containers.map((c) => c.name)).toEqual(['shop-api-1']);
  });

  it('says the tag moved, and where it points now', async () => {
    builtHere();
    w.refs.set('v1.0.0', sha('def4'));
    const [image] = (await trace('shop-api-1', w)).images;
    expect(image?.tag).toEqual({ tag: 'v1.0.0', status: 'moved', now: sha('def4'), dir: w.stack.workingDir });
    expect(traceText(await trace('shop-api-1', w))).toMatch(/^ {2}tag +\[store\+git\] +v1\.0\.0 MOVED: it now points to def400000000, not to the commit this image was built from$/m);
  });

  it('says when the tag is no longer in the repository', async () => {
    builtHere();
    w.refs.clear();
    const [image] = (await trace('shop-api-1', w)).images;
    expect(image?.tag).toMatchObject({ status: 'missing', now: null });
    expect(traceText(await trace('shop-api-1', w))).toContain(`v1.0.0 (not in the repository at ${w.stack.workingDir}: deleted, or never fetched there)`);
  });
});

describe('trace from a service', () => {
  it('lists every replica, and each image when a rollout left two', async () => {
    builtHere();
    const older = imageId('aa00');
    w.driver.addImage('shop-api:old', older, { labels: builtLabels({ ...V1, commit: sha('abc0'), tag: 'v0.9.0', describe: 'v0.9.0' }) });
    addContainer(w.driver, { id: 'c0ffee02', name: 'shop-api-2', imageId: older, replica: 2 });
    addContainer(w.driver, { id: 'beef01', name: 'other-api-1', imageId: older, project: 'other' });
    const result = await trace('api', w);
    expect(result).toMatchObject({ matched: 'service', project: 'shop', service: 'api' });
    expect(result.containers.map((c) => c.name)).toEqual(['shop-api-1', 'shop-api-2']);
    expect(result.images.map((image) => [image.id, image.build?.from, image.git?.tag])).toEqual([
      [imageId('aa11'), 'store', 'v1.0.0'],
      [older, 'labels', 'v0.9.0'],
    ]);
  });

  it('traces the service’s image when it has no containers', async () => {
    builtHere();
    w.driver.containers.clear();
    const result = await trace('api', w);
    expect(result.containers).toEqual([]);
    expect(result.images.map((image) => image.id)).toEqual([imageId('aa11')]);
    expect(traceText(result)).toMatch(/^container +\[engine\] +none: the service has no containers$/m);
  });
});

describe('trace from an image', () => {
  it('takes an image id prefix, and lists the containers that run it', async () => {
    builtHere();
    const result = await trace('aa11', w);
    expect(result).toMatchObject({ matched: 'image', project: 'shop', service: 'api' });
    expect(result.containers.map((c) => c.name)).toEqual(['shop-api-1']);
    expect(result.images[0]?.git?.commit).toBe(V1.commit);
  });

  it('takes a reference and a repo digest', async () => {
    builtHere();
    const digest = `registry.example/shop-api@sha256:${'d'.repeat(64)}`;
    w.driver.addImage('registry.example/shop-api:1', imageId('aa22'), { repoDigests: [digest], labels: builtLabels(V1) });
    expect((await trace('shop-api:latest', w)).images[0]?.id).toBe(imageId('aa11'));
    const byDigest = await trace(digest, w);
    expect(byDigest.images[0]).toMatchObject({ id: imageId('aa22'), digests: [digest], build: { from: 'labels' } });
  });
});

describe('trace from labels alone', () => {
  it('falls back to the image labels for an image built on another machine, and says so', async () => {
    w = world();
    const id = imageId('cc33');
    w.driver.addImage('shop-api:latest', id, { labels: builtLabels({ ...V1, dirty: true }) });
    addContainer(w.driver, { id: 'c1', name: 'shop-api-1', imageId: id });
    w.refs.set('v1.0.0', V1.commit);
    const result = await trace('shop-api-1', w);
    expect(result.images[0]).toMatchObject({
      build: { from: 'labels', builtAt: '2024-05-02T08:00:00.000Z', tags: [] },
      git: { from: 'labels', commit: V1.commit, tag: 'v1.0.0', dirty: true, source: V1.source },
      tag: { status: 'unchanged' },
      baseImages: [{ from: 'labels', reference: 'node:20-bookworm-slim', id: `sha256:${'b'.repeat(64)}`, digest: null }],
    });
    const text = traceText(result);
    expect(text).toMatch(/^ {2}commit +\[labels\] +abc1000000000000000000000000000000000000 {2}DIRTY: built with uncommitted changes in the build context$/m);
    expect(text).toContain("[labels]  the image's own labels: this project has no record of its build");
    expect(text).not.toContain('[store]');
  });

  it('reads no tag from a version label that is a describe with a distance', async () => {
    w = world();
    w.driver.addImage('shop-api:latest', imageId('cc34'), { labels: builtLabels({ commit: sha('abc7'), describe: 'v1.0.0-3-gabc7000', dirty: false }) });
    const [image] = (await trace('shop-api:latest', w)).images;
    expect(image?.git).toMatchObject({ tag: null, describe: 'v1.0.0-3-gabc7000' });
    expect(image?.tag).toBeNull();
    expect(traceText(await trace('shop-api:latest', w))).toMatch(/^ {2}tag +\[labels\] +none: no tag pointed at the commit \(describe: v1\.0\.0-3-gabc7000\)$/m);
  });

  it('traces a container Flotilla did not create, by its exact name', async () => {
    w = world();
    w.driver.addImage('postgres:15', imageId('dd44'));
    addContainer(w.driver, { id: 'e1', name: 'my-postgres', imageId: imageId('dd44'), project: '' });
    const result = await trace('my-postgres', w);
    expect(result).toMatchObject({ matched: 'container', project: null, service: null });
    expect(result.images[0]).toMatchObject({ build: null, git: null });
    expect(result.images[0]?.noGit).toBe('no git information: the image has no revision label (org.opencontainers.image.revision)');
    expect(traceText(result)).toMatch(/^ {2}build +\[labels\] +unknown: this project has no record of it, and the image has no Flotilla build labels \(not built by Flotilla\)$/m);
  });

  it('takes a name that cannot be an image reference (upper case) for a container, not an engine error', async () => {
    w = world();
    w.driver.addImage('postgres:15', imageId('dd44'));
    addContainer(w.driver, { id: 'e1', name: 'My_Postgres', imageId: imageId('dd44'), project: '' });
    expect((await trace('My_Postgres', w)).containers.map((c) => c.name)).toEqual(['My_Postgres']);
    expect(await failure(trace('My_Nothing', w))).toBeInstanceOf(TargetNotFoundError);
  });
});

describe('trace without git information', () => {
  it('says so plainly when the build context was not a git repository', async () => {
    w = world();
    const id = imageId('ee55');
    w.driver.addImage('shop-api:latest', id, { labels: builtLabels(undefined) });
    w.store.recordBuild(buildRecord({ imageId: id, git: undefined }));
    addContainer(w.driver, { id: 'c1', name: 'shop-api-1', imageId: id });
    const result = await trace('shop-api-1', w);
    expect(result.images[0]).toMatchObject({ git: null, tag: null, build: { from: 'store' } });
    expect(traceText(result)).toMatch(/^ {2}git +\[store\] +no git information: the build context was not in a git repository when it was built$/m);
  });

  it('says so plainly when the image has an empty revision label', async () => {
    w = world();
    w.driver.addImage('shop-api:latest', imageId('ee56'), { labels: builtLabels(undefined) });
    const [image] = (await trace('shop-api:latest', w)).images;
    expect(image).toMatchObject({ git: null, build: { from: 'labels' } });
    expect(image?.noGit).toBe("no git information: the image's revision label (org.opencontainers.image.revision) is empty, so it was built outside a git repository");
  });

  it('leaves the tag unchecked without a repository to look in', async () => {
    builtHere();
    const [image] = (await trace('shop-api-1', { ...w, stack: undefined, git: { resolveRef: w.git.resolveRef } })).images;
    expect(image?.tag).toEqual({ tag: 'v1.0.0', status: 'unchecked', now: null, dir: null });
  });
});

describe('trace targets that are not one thing', () => {
  it('refuses an ambiguous prefix with exit 2, listing the candidates', async () => {
    builtHere();
    addContainer(w.driver, { id: 'c0ffee0000000000000000000000000000000000000000000000000000000002', name: 'shop-api-2', imageId: imageId('aa11'), replica: 2 });
    const error = await failure(trace('c0ff', w));
    expect(error).toBeInstanceOf(AmbiguousTargetError);
    expect(exitCodeOf(error)).toBe(2);
    expect((error as AmbiguousTargetError).candidates).toEqual(['container shop-api-1 (c0ffee000000)', 'container shop-api-2 (c0ffee000000)']);
    expect((error as Error).message).toBe('"c0ff" is a prefix of 2 things:\n  container shop-api-1 (c0ffee000000)\n  container shop-api-2 (c0ffee000000)');
  });

  it('counts a container id and an image id sharing the prefix as ambiguous', async () => {
    builtHere();
    addContainer(w.driver, { id: 'aa1f99', name: 'shop-db-1', imageId: imageId('aa11'), service: 'db' });
    expect((await failure(trace('aa1', w)) as AmbiguousTargetError).candidates).toEqual(['container shop-db-1 (aa1f99)', 'image sha256:aa1100000000']);
  });

  it('fails with exit 1 naming every kind of target tried when nothing matches', async () => {
    builtHere();
    const error = await failure(trace('nope', w));
    expect(error).toBeInstanceOf(TargetNotFoundError);
    expect(exitCodeOf(error)).toBe(1);
    expect((error as Error).message).toBe(
      'Nothing matches "nope": it is not a container (name, id or id prefix) on the engine, nor a service of project shop, nor an image (reference, id, short id or digest) on the engine.',
    );
    expect((await failure(trace('nope', { ...w, stack: undefined })) as Error).message).toContain('nor a service (no Compose file here, so no services)');
  });
});
