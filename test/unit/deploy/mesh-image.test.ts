/** The proxy image: built from the proxy's own bundle alone, run with the shared node flags, tagged by what it copies. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateMeshImage, MESH_DOCKERFILE, meshImageFromBundle } from '../../../src/deploy/mesh-image.js';
import { MESH_PROXY_NODE_FLAGS } from '../../../src/deploy/mesh-proxy-process.js';
import { FLOTILLA_VERSION } from '../../../src/core/version.js';
import type { BuildRequest, ImageInfo } from '../../../src/runtime/driver.js';
import { FakeDriver } from '../../../src/runtime/fake/fake-driver.js';

/** Keeps each build request with the Dockerfile it sent (read before the image source removes it). */
class RecordingDriver extends FakeDriver {
  readonly builds: { request: BuildRequest; dockerfile: string }[] = [];

  override buildImage(request: BuildRequest): Promise<ImageInfo> {
    this.builds.push({ request, dockerfile: request.dockerfileOutside ? readFileSync(request.dockerfileOutside.path, 'utf8') : '' });
    return super.buildImage(request);
  }
}

let dist: string;

beforeEach(() => {
  dist = mkdtempSync(join(tmpdir(), 'flotilla-mesh-image-'));
  writeFileSync(join(dist, 'flotilla-mesh-proxy.cjs'), '"use strict";/* proxy v1 */');
  writeFileSync(join(dist, 'flotilla.cjs'), '/* launcher */');
  writeFileSync(join(dist, 'flotilla-main.cjs'), '/* cli v1 */');
});

afterEach(() => {
  rmSync(dist, { recursive: true, force: true });
});

describe('the mesh proxy image', () => {
  it('runs the proxy bundle with the shared node flags, as the unprivileged node user', () => {
    expect(MESH_DOCKERFILE.split('\n')).toEqual([
      'FROM node:20-bookworm-slim',
      'COPY flotilla-mesh-proxy.cjs /flotilla/',
      'USER node',
      'EXPOSE 8474',
      `ENTRYPOINT ${JSON.stringify(['node', ...MESH_PROXY_NODE_FLAGS, '/flotilla/flotilla-mesh-proxy.cjs'])}`,
      '',
    ]);
    expect(MESH_DOCKERFILE).not.toContain('flotilla-main.cjs');
    expect(MESH_DOCKERFILE).not.toContain('mesh-proxy"]');
  });

  it('is tagged by version and by the bundle it copies, and only by that bundle', () => {
    const first = meshImageFromBundle(dist).tag;
    expect(first).toMatch(new RegExp(`^flotilla-mesh:${FLOTILLA_VERSION.replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
    expect(meshImageFromBundle(dist).tag).toBe(first);

    // The CLI's own files are not in the image: a change to them keeps the tag (no rebuild, no proxy recreated).
    writeFileSync(join(dist, 'flotilla-main.cjs'), '/* cli v2 */');
    writeFileSync(join(dist, 'flotilla.cjs'), '/* launcher v2 */');
    expect(meshImageFromBundle(dist).tag).toBe(first);

    writeFileSync(join(dist, 'flotilla-mesh-proxy.cjs'), '"use strict";/* proxy v2 */');
    expect(meshImageFromBundle(dist).tag).not.toBe(first);
  });

  it('sends the proxy bundle alone as the build context, with the Dockerfile from outside it', async () => {
    const driver = new RecordingDriver();
    const source = meshImageFromBundle(dist);
    const image = await source.build(driver, { 'dev.flotilla.test-run': 'r1' });
    expect(driver.builds).toHaveLength(1);
    const [{ request, dockerfile }] = driver.builds as [{ request: BuildRequest; dockerfile: string }];
    expect(request).toMatchObject({ context: dist, entries: ['flotilla-mesh-proxy.cjs'], dockerfile: 'Dockerfile.flotilla-mesh', tags: [source.tag], labels: { 'dev.flotilla.test-run': 'r1' } });
    expect(request.dockerfileOutside?.name).toBe('Dockerfile.flotilla-mesh');
    expect(dockerfile).toBe(MESH_DOCKERFILE);
    expect(image.id).toMatch(/^sha256:/);
  });

  it('asks for a build when Flotilla runs from source', () => {
    expect(() => locateMeshImage()).toThrow(expect.objectContaining({ code: 'MESH_NEEDS_BUILT_CLI', message: expect.stringContaining('dist/bin/flotilla-mesh-proxy.cjs') as unknown }));
  });
});
