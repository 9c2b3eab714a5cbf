/**
 * The mesh proxy's image, built by Flotilla from its own build: `node:20-bookworm-slim` with
 * dist/bin/flotilla-mesh-proxy.cjs (the proxy alone, not the CLI: a proxy runs beside every meshed
 * service, and the whole CLI cost about 25 MB more per process), run with the node flags of
 * mesh-proxy-process.ts. Its tag names the Flotilla version and the content (the copied bundle and
 * the Dockerfile), so a new build of Flotilla gets a new image, and an existing one is never rebuilt.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlotillaError } from '../core/errors.js';
import { FLOTILLA_VERSION } from '../core/version.js';
import type { Driver, ImageInfo, ProgressListener } from '../runtime/driver.js';
import { MESH_PROXY_NODE_FLAGS } from './mesh-proxy-process.js';

/** The repository of the proxy image. */
export const MESH_IMAGE_REPOSITORY = 'flotilla-mesh';

/** The base image: present on the host (no pull is attempted). */
export const MESH_BASE_IMAGE = 'node:20-bookworm-slim';

/** The proxy's bundle, built by scripts/build-cli.mjs beside the CLI's. */
const PROXY_BUNDLE = 'flotilla-mesh-proxy.cjs';
const BUNDLE_FILES = [PROXY_BUNDLE] as const;
const DOCKERFILE_NAME = 'Dockerfile.flotilla-mesh';

/** The proxy runs as the base image's unprivileged `node` user; Docker lets containers bind ports below 1024 unprivileged. */
export const MESH_DOCKERFILE = [
  `FROM ${MESH_BASE_IMAGE}`,
  `COPY ${BUNDLE_FILES.join(' ')} /flotilla/`,
  'USER node',
  'EXPOSE 8474',
  `ENTRYPOINT ${JSON.stringify(['node', ...MESH_PROXY_NODE_FLAGS, `/flotilla/${PROXY_BUNDLE}`])}`,
  '',
].join('\n');

/** Where the proxy image comes from: its tag, and how to build it when missing. */
export interface MeshImageSource {
  /** `flotilla-mesh:<version>-<12 hex>`. */
  tag: string;
  build(driver: Driver, labels: Record<string, string>, onProgress?: ProgressListener): Promise<ImageInfo>;
}

/** The build beside the running code: the directory holding flotilla-mesh-proxy.cjs, or undefined when running from source. */
export function bundleDirectory(): string | undefined {
  // In the bundle (CommonJS) __filename is dist/bin/flotilla-main.cjs; from source it is undefined and the module is under src/.
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  const directory = dirname(here);
  return BUNDLE_FILES.every((file) => existsSync(join(directory, file))) ? directory : undefined;
}

/** The proxy image of the bundle in `directory`. */
export function meshImageFromBundle(directory: string): MeshImageSource {
  const hash = createHash('sha256');
  for (const file of BUNDLE_FILES) hash.update(readFileSync(join(directory, file)));
  hash.update(MESH_DOCKERFILE);
  const tag = `${MESH_IMAGE_REPOSITORY}:${FLOTILLA_VERSION}-${hash.digest('hex').slice(0, 12)}`;
  return {
    tag,
    async build(driver, labels, onProgress) {
      const scratch = await mkdtemp(join(tmpdir(), 'flotilla-mesh-'));
      try {
        const dockerfile = join(scratch, DOCKERFILE_NAME);
        await writeFile(dockerfile, MESH_DOCKERFILE);
        return await driver.buildImage(
          { context: directory, entries: [...BUNDLE_FILES], dockerfile: DOCKERFILE_NAME, dockerfileOutside: { name: DOCKERFILE_NAME, path: dockerfile }, args: {}, labels, tags: [tag] },
          onProgress,
        );
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}

/** The proxy image of the running Flotilla; a MESH_NEEDS_BUILT_CLI error when it runs from source. */
export function locateMeshImage(): MeshImageSource {
  const directory = bundleDirectory();
  if (!directory) {
    throw new FlotillaError('MESH_NEEDS_BUILT_CLI', `the mesh proxy image is built from the bundled proxy (dist/bin/${PROXY_BUNDLE}, beside the bundled CLI), and this Flotilla runs from source`, {
      hint: 'Run `npm run build`, then use dist/bin/flotilla.cjs (or take the services out of the mesh with `x-flotilla: { mesh: false }`).',
    });
  }
  return meshImageFromBundle(directory);
}
