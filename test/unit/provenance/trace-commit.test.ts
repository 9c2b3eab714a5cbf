import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeOf, FlotillaError } from '../../../src/core/errors.js';
import { traceCommit } from '../../../src/provenance/index.js';
import { buildRecord, imageId, sha } from './records.js';
import { addContainer, builtLabels, world, type World } from './world.js';

let w: World;
afterEach(() => w.dispose());

const V1 = { commit: sha('abc1'), tag: 'v1.0.0', describe: 'v1.0.0', dirty: false };

/**
 * shop-api-1 runs an image built here at v1.0.0 (abc1…); other-api-1 (another project) runs an
 * image built elsewhere at def4…, known by its labels only; shop-api-9 is stopped.
 */
function engine(): World {
  w = world();
  w.driver.addImage('shop-api:latest', imageId('aa11'), { labels: builtLabels(V1) });
  w.store.recordBuild(buildRecord({ imageId: imageId('aa11'), git: V1 }));
  w.driver.addImage('other-api:latest', imageId('bb22'), { labels: builtLabels({ commit: sha('def4'), tag: 'v1.1.0', describe: 'v1.1.0', dirty: false }, { project: 'other' }) });
  addContainer(w.driver, { id: 'c1', name: 'shop-api-1', imageId: imageId('aa11') });
  addContainer(w.driver, { id: 'c2', name: 'other-api-1', imageId: imageId('bb22'), project: 'other', image: 'other-api:latest' });
  addContainer(w.driver, { id: 'c9', name: 'shop-api-9', imageId: imageId('aa11'), replica: 9, state: 'exited' });
  return w;
}

describe('trace --commit', () => {
  it('finds the running containers of a commit prefix, from the store and from labels, in any project', async () => {
    engine();
    w.driver.addImage('third:latest', imageId('cc33'), { labels: builtLabels({ ...V1, dirty: true }, { project: 'third' }) });
    addContainer(w.driver, { id: 'c3', name: 'third-web-1', imageId: imageId('cc33'), project: 'third', service: 'web', image: 'third:latest' });
    const result = await traceCommit('ABC1', w);
    expect(result.containers).toEqual([
      { container: 'shop-api-1', id: 'c1', project: 'shop', service: 'api', image: 'shop-api:latest', imageId: imageId('aa11'), commit: V1.commit, tag: 'v1.0.0', builtAt: '2024-05-01T10:01:00.000Z', from: 'store' },
      { container: 'third-web-1', id: 'c3', project: 'third', service: 'web', image: 'third:latest', imageId: imageId('cc33'), commit: V1.commit, tag: 'v1.0.0', builtAt: '2024-05-02T08:00:00.000Z', from: 'labels' },
    ]);
  });

  it('finds by tag both what was built at the tag here and what was built where the tag points now', async () => {
    engine();
    // v1.0.0 moved to def4…: the image built here before still matches by its record, the other by its revision.
    w.refs.set('v1.0.0', sha('def4'));
    const result = await traceCommit('v1.0.0', w);
    expect(result.resolved).toBe(sha('def4'));
    expect(result.containers.map((match) => [match.container, match.from, match.commit])).toEqual([
      ['other-api-1', 'labels', sha('def4')],
      ['shop-api-1', 'store', V1.commit],
    ]);
  });

  it('matches a tag by the image labels alone when neither the repository nor the store knows it', async () => {
    engine();
    const result = await traceCommit('v1.1.0', w);
    expect(result).toMatchObject({ resolved: null, containers: [{ container: 'other-api-1', tag: 'v1.1.0', from: 'labels' }] });
  });

  it('leaves out stopped containers, and says none run without failing', async () => {
    engine();
    w.driver.containers.delete('c1');
    expect((await traceCommit(V1.commit, w)).containers).toEqual([]);
    w.refs.set('main', sha('9999'));
    expect(await traceCommit('main', w)).toEqual({ ref: 'main', resolved: sha('9999'), containers: [] });
  });

  it('fails with exit 1 for a ref that is no commit, tag or branch anywhere', async () => {
    engine();
    const error = await traceCommit('nope', w).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FlotillaError);
    expect(error).toMatchObject({ code: 'TRACE_UNKNOWN_REF' });
    expect(exitCodeOf(error)).toBe(1);
    expect((error as Error).message).toBe(
      `"nope" is not a commit, nor a tag or branch in the repository at ${w.stack.workingDir}, nor a tag this project built from; and no running image says it was built from it`,
    );
  });

  it('works without a project: labels only', async () => {
    engine();
    const result = await traceCommit('abc1', { driver: w.driver, store: undefined, stack: undefined, git: w.git });
    expect(result.containers.map((match) => [match.container, match.from])).toEqual([['shop-api-1', 'labels']]);
  });
});
