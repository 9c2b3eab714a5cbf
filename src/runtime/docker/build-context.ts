/**
 * The build context sent to the Engine: a tar stream of the context directory that honours
 * `.dockerignore` the way the docker CLI does (the Dockerfile and .dockerignore always go in;
 * a Dockerfile outside the context is added under a generated name).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import { pack } from 'tar-fs';
import { RuntimeError } from '../../core/errors.js';
import { DockerErrorCode } from './errors.js';

/** A context ready to send: the tar stream and the Dockerfile's name inside it. */
export interface BuildContext {
  tar: Readable;
  dockerfile: string;
  /** Every path in the tar, relative and `/`-separated, in order (for tests and debugging). */
  entries: string[];
}

/** Packs `contextDir` (absolute) for a build of `dockerfile` (relative to the context, or absolute). */
export async function createBuildContext(contextDir: string, dockerfile: string): Promise<BuildContext> {
  if (!isAbsolute(contextDir)) {
    throw new RuntimeError(DockerErrorCode.buildFailed, `The build context "${contextDir}" is not a local directory`, {
      hint: 'The docker driver builds from local directories only; clone remote contexts first.',
    });
  }
  const dockerfilePath = resolve(contextDir, dockerfile);
  const dockerfileContent = await readFile(dockerfilePath).catch((cause: unknown) => {
    throw new RuntimeError(DockerErrorCode.buildFailed, `Cannot read the Dockerfile ${dockerfilePath}`, {
      hint: 'Check `build.context` and `build.dockerfile` in the Compose file.',
      cause,
    });
  });
  const inside = relative(contextDir, dockerfilePath);
  const outside = inside.startsWith('..') || isAbsolute(inside);
  const dockerfileName = outside
    ? `.dockerfile.${createHash('sha256').update(dockerfileContent).digest('hex').slice(0, 20)}`
    : toPosix(inside);

  const entries = await contextEntries(contextDir, [dockerfileName, '.dockerignore']);
  const archive = pack(contextDir, {
    entries,
    // `entries` already lists every path to send; stop tar-fs from adding directories' children.
    ignore: () => true,
    // Owners on the build machine mean nothing in the image; the docker CLI sends 0:0 as well.
    map: (header) => ({ ...header, uid: 0, gid: 0 }),
    finalize: !outside,
    finish: (packer) => {
      if (!outside) return;
      packer.entry({ name: dockerfileName, mode: 0o644, size: dockerfileContent.length }, dockerfileContent);
      packer.finalize();
    },
  });
  // tar-stream's pack is a streamx stream; a Node Readable is what the HTTP client pipes.
  const tar = Readable.from(archive, { objectMode: false });
  return { tar, dockerfile: dockerfileName, entries: outside ? [...entries, dockerfileName] : entries };
}

/**
 * Paths under `root` that .dockerignore keeps, plus `always`. An ignored directory is skipped
 * whole unless an exception (`!pattern`) or an `always` path could bring a file back from it.
 */
export async function contextEntries(root: string, always: string[]): Promise<string[]> {
  const rules = await readFile(join(root, '.dockerignore'), 'utf8').catch(() => '');
  // The package is CommonJS with a `default` property; NodeNext types the import as the module.
  const matcher = dockerignore.default({ ignorecase: false }).add(rules);
  const hasExceptions = rules.split(/\r?\n/).some((line) => line.trim().startsWith('!'));
  const keepAlways = new Set(always);
  const kept: string[] = [];

  const walk = async (dir: string): Promise<void> => {
    const children = await readdir(join(root, dir), { withFileTypes: true });
    children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const child of children) {
      const path = dir ? `${dir}/${child.name}` : child.name;
      const ignored = !keepAlways.has(path) && matcher.ignores(path);
      if (!ignored) kept.push(path);
      const holdsAlways = always.some((keep) => keep.startsWith(`${path}/`));
      if (child.isDirectory() && (!ignored || hasExceptions || holdsAlways)) await walk(path);
    }
  };
  await walk('');
  return kept;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
