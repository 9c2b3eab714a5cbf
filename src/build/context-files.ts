/**
 * Which files a build sends: the context directory filtered by `.dockerignore` the way the docker
 * CLI does it. The same list is hashed into the build version and tarred by the driver, so what
 * is hashed is exactly what is sent.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { FlotillaError, type FlotillaErrorOptions } from '../core/errors.js';

/** Codes of the errors raised when a build's inputs are unusable. */
export const BuildErrorCode = {
  contextNotFound: 'BUILD_CONTEXT_NOT_FOUND',
  contextNotDirectory: 'BUILD_CONTEXT_NOT_DIRECTORY',
  contextRemote: 'BUILD_CONTEXT_REMOTE',
  contextUnreadable: 'BUILD_CONTEXT_UNREADABLE',
  dockerfileNotFound: 'DOCKERFILE_NOT_FOUND',
} as const;

/** A build input (context, Dockerfile) that cannot be used as configured: a configuration error. */
export class BuildInputError extends FlotillaError {
  override readonly name = 'BuildInputError';
  override readonly kind = 'usage';

  constructor(code: string, message: string, options: FlotillaErrorOptions = {}) {
    super(code, message, options);
  }
}

/** What a build sends. */
export interface ContextListing {
  /** Paths kept by .dockerignore, relative, `/`-separated, sorted; directories included. */
  entries: string[];
  /** The Dockerfile's name inside the context as sent. */
  dockerfile: string;
  /** Set when the Dockerfile lies outside the context: it is sent as `name`, read from `path`. */
  dockerfileOutside?: { name: string; path: string };
}

const CHECK_BUILD_HINT = 'Check `build.context` and `build.dockerfile` in the Compose file.';

/** Lists what a build of `dockerfile` (relative to the context, or absolute) sends from `contextDir`. */
export async function listContext(contextDir: string, dockerfile: string): Promise<ContextListing> {
  if (isRemoteContext(contextDir)) {
    throw new BuildInputError(BuildErrorCode.contextRemote, `The build context "${contextDir}" is a remote (git or URL) context`, {
      hint: 'Flotilla builds from local directories only, so it can hash what it sends: clone the repository and point `build.context` at the clone.',
    });
  }
  const root = resolve(contextDir);
  const rootStat = await stat(root).catch((cause: unknown) => {
    throw new BuildInputError(BuildErrorCode.contextNotFound, `The build context ${root} does not exist`, { hint: CHECK_BUILD_HINT, cause });
  });
  if (!rootStat.isDirectory()) {
    throw new BuildInputError(BuildErrorCode.contextNotDirectory, `The build context ${root} is not a directory`, { hint: CHECK_BUILD_HINT });
  }

  const dockerfilePath = resolve(root, dockerfile);
  const inside = relative(root, dockerfilePath);
  const outside = inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside);
  // Outside the context the content names the file; inside, only its existence matters here.
  const content = await (outside ? readFile(dockerfilePath) : stat(dockerfilePath)).catch((cause: unknown) => {
    throw dockerfileMissing(dockerfilePath, cause);
  });
  if (!Buffer.isBuffer(content) && !content.isFile()) throw dockerfileMissing(dockerfilePath, undefined);

  if (outside) {
    // The docker CLI's naming: the content hash makes the name stable and collision-free.
    const name = `.dockerfile.${createHash('sha256').update(content as Buffer).digest('hex').slice(0, 20)}`;
    const entries = await contextEntries(root, ['.dockerignore']);
    return { entries, dockerfile: name, dockerfileOutside: { name, path: dockerfilePath } };
  }
  const name = sep === '/' ? inside : inside.split(sep).join('/');
  return { entries: await contextEntries(root, [name, '.dockerignore']), dockerfile: name };
}

/** Where Flotilla keeps a project's state; left out of every build context. */
const STATE_DIRECTORY = '.flotilla';

/**
 * Paths under `root` that .dockerignore keeps, plus `always` (when they exist), sorted.
 * Like the docker CLI, an ignored directory is only walked when an exception pattern (or an
 * `always` path) names something beneath it; otherwise it is skipped whole, however large.
 */
export async function contextEntries(root: string, always: string[]): Promise<string[]> {
  const rules = await readFile(join(root, '.dockerignore'), 'utf8').catch((cause: unknown) => {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw unreadable(join(root, '.dockerignore'), cause);
  });
  // The package is CommonJS with a `default` property; NodeNext types the import as the module.
  const matcher = dockerignore.default({ ignorecase: false }).add(rules);
  // The docker CLI appends `!Dockerfile` and `!.dockerignore`: they count as exceptions too.
  const exceptions = [...exceptionPatterns(rules), ...always];
  const keepAlways = new Set(always);
  const kept: string[] = [];

  const walk = async (dir: string): Promise<void> => {
    const children = await readdir(join(root, dir), { withFileTypes: true }).catch((cause: unknown) => {
      throw unreadable(join(root, dir), cause);
    });
    const subdirectories: string[] = [];
    for (const child of children) {
      // Flotilla's own state (the state database, changing on every build) never goes into an image.
      if (child.name === STATE_DIRECTORY && child.isDirectory()) continue;
      const path = dir ? `${dir}/${child.name}` : child.name;
      const ignored = !keepAlways.has(path) && matcher.ignores(path);
      if (!ignored) kept.push(path);
      // Symlinks to directories are sent as links (isDirectory() is false for them), never followed.
      if (child.isDirectory() && (!ignored || exceptions.some((pattern) => `${pattern}/`.startsWith(`${path}/`)))) {
        subdirectories.push(path);
      }
    }
    await Promise.all(subdirectories.map(walk));
  };
  await walk('');
  return kept.sort(comparePaths);
}

/** Orders paths by UTF-16 code units: deterministic on every machine, parents before children. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `git@…`, `git://…`, `ssh://…`, `http(s)://…` and `github.com/…` contexts, as Compose and the docker CLI accept them. */
export function isRemoteContext(context: string): boolean {
  return /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/)/i.test(context);
}

/** Exception patterns (`!pattern`) cleaned as the docker CLI cleans them, for the walk's prefix test. */
function exceptionPatterns(rules: string): string[] {
  const patterns: string[] = [];
  for (const line of rules.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('!')) continue;
    const cleaned = posix.normalize(trimmed.slice(1).trim()).replace(/^\/+/, '');
    if (cleaned && cleaned !== '.') patterns.push(cleaned);
  }
  return patterns;
}

function dockerfileMissing(path: string, cause: unknown): BuildInputError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const what = code === undefined || code === 'EISDIR' ? 'is not a file' : code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
  return new BuildInputError(BuildErrorCode.dockerfileNotFound, `The Dockerfile ${path} ${what}`, { hint: CHECK_BUILD_HINT, cause });
}

function unreadable(path: string, cause: unknown): FlotillaError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'error';
  return new FlotillaError(BuildErrorCode.contextUnreadable, `Cannot read ${path} in the build context (${code})`, {
    hint: 'Make the build context readable by the user running Flotilla, or list the path in .dockerignore.',
    cause,
  });
}
