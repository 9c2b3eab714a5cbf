/**
 * The git state a build comes from, read with the `git` CLI (execFile, never a shell): commit,
 * tag, describe, whether the build context has uncommitted changes, and the origin URL without
 * credentials. Not a repository, or no git installed: undefined, never an error.
 */
import { execFile } from 'node:child_process';
import { access, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { FlotillaError } from '../core/errors.js';
import type { GitInfo } from './types.js';

interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Exit code, or the spawn/buffer error code (`ENOENT`: no git). */
  code: number | string | undefined;
}

/** Output beyond this means "dirty" for `git status`; no need to read a huge listing to know that. */
const STATUS_MAX_BUFFER = 64 * 1024;
const TIMEOUT_MS = 30_000;

/** A build context whose git state is wanted; `sent` as for `gitInfo`. */
export interface GitContext {
  context: string;
  sent?: ReadonlySet<string> | undefined;
}

/**
 * Git state of the repository holding `dir`. `contextDir` (default `dir`) bounds what counts as
 * dirty; with `sent` (the context entries that go to the build, relative to `contextDir`), only
 * changes to those count, plus deletions: a file .dockerignore leaves out changes no image.
 */
export async function gitInfo(dir: string, contextDir: string = dir, sent?: ReadonlySet<string>): Promise<GitInfo | undefined> {
  const root = await repositoryRoot(dir);
  return root ? (await repositoryState(root, [{ context: contextDir, sent }]))[0] : undefined;
}

/**
 * Git state of several build contexts at once. git runs once per repository, not per context:
 * twenty services in one repository cost five git processes, not a hundred.
 */
export async function gitInfoForContexts(contexts: readonly GitContext[]): Promise<(GitInfo | undefined)[]> {
  const roots = await Promise.all(contexts.map((context) => repositoryRoot(context.context)));
  const byRoot = new Map<string, number[]>();
  roots.forEach((root, index) => {
    if (root) byRoot.set(root, [...(byRoot.get(root) ?? []), index]);
  });
  const results: (GitInfo | undefined)[] = contexts.map(() => undefined);
  await Promise.all(
    [...byRoot].map(async ([root, indexes]) => {
      const states = await repositoryState(root, indexes.map((index) => contexts[index] as GitContext));
      indexes.forEach((index, position) => (results[index] = states[position]));
    }),
  );
  return results;
}

/** The directory holding `.git` (a directory, or a file for worktrees and submodules) at or above `dir`. */
async function repositoryRoot(dir: string): Promise<string | undefined> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (await access(join(current, '.git')).then(() => true, () => false)) return current;
    if (dirname(current) === current) return undefined;
  }
}

/** Commit, tag, describe and origin of the repository at `root`, and whether each context is dirty. */
async function repositoryState(root: string, contexts: readonly GitContext[]): Promise<(GitInfo | undefined)[]> {
  const paths = await Promise.all(contexts.map((context) => realpath(context.context).catch(() => resolve(context.context))));
  const [head, exactTag, describe, status, origin, toplevel] = await Promise.all([
    git(root, ['rev-parse', '--verify', '--quiet', 'HEAD']),
    git(root, ['describe', '--tags', '--exact-match', 'HEAD']),
    git(root, ['describe', '--tags', '--always']),
    // Untracked files count (they would be sent), ignored ones do not; the user's
    // status.showUntrackedFiles setting must not hide them.
    git(root, ['status', '--porcelain', '-z', '--untracked-files=normal', '--', ...paths], STATUS_MAX_BUFFER),
    git(root, ['remote', 'get-url', 'origin']),
    git(root, ['rev-parse', '--show-toplevel']),
  ]);
  if (head.code === 'ENOENT' || notARepository(head)) return contexts.map(() => undefined);
  // `--verify --quiet` exits 1 without a word when HEAD is unborn: a repository with no commit
  // yet has nothing to trace a build to, so it counts as no repository at all.
  if (head.code === 1 && head.stdout === '') return contexts.map(() => undefined);
  if (!head.ok) throw gitFailed(root, 'rev-parse HEAD', head);
  if (!status.ok && status.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' && !/outside repository/i.test(status.stderr)) {
    throw gitFailed(root, 'status', status);
  }

  const tag = exactTag.ok ? exactTag.stdout.trim() : '';
  const source = origin.ok ? stripCredentials(origin.stdout.trim()) : '';
  const commit = head.stdout.trim();
  const top = toplevel.ok ? toplevel.stdout.trim() : root;
  return contexts.map((context, index) => ({
    commit,
    ...(tag ? { tag } : {}),
    describe: describe.ok ? describe.stdout.trim() : commit.slice(0, 7),
    // A listing too long to buffer is not empty; a context outside the repository cannot be vouched for.
    dirty: status.ok ? changesSent(status.stdout, top, paths[index] ?? '', context.sent) : true,
    ...(source ? { source } : {}),
  }));
}

/**
 * Whether `git status --porcelain -z` output (paths relative to the repository root) names, inside
 * `contextDir`, a deletion, or a change to a path that is sent (any path when `sent` is not given),
 * or an untracked directory holding one.
 */
function changesSent(porcelain: string, toplevel: string, contextDir: string, sent: ReadonlySet<string> | undefined): boolean {
  const records = porcelain.split('\0');
  for (let index = 0; index < records.length; index++) {
    const record = records[index] ?? '';
    if (record.length < 4) continue;
    const state = record.slice(0, 2);
    // A rename or copy is followed by its source path in the next record.
    if (state.includes('R') || state.includes('C')) index++;
    const named = record.slice(3);
    const path = relative(contextDir, join(toplevel, named)).split(sep).join('/');
    if (path.startsWith('..')) continue;
    if (!sent || state.includes('D')) return true;
    // An untracked directory is listed once, as `dir/`, when nothing in it is tracked.
    if (named.endsWith('/')) {
      if (path === '' || [...sent].some((entry) => entry.startsWith(`${path}/`))) return true;
    } else if (sent.has(path)) {
      return true;
    }
  }
  return false;
}

/** The commit `ref` (tag, branch, sha) points to now in the repository holding `dir`; undefined when unknown. */
export async function resolveRef(dir: string, ref: string): Promise<string | undefined> {
  // A ref starting with `-` would be read as an option.
  if (ref === '' || ref.startsWith('-')) return undefined;
  // `^{commit}` peels an annotated tag to the commit it names.
  const result = await git(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  const sha = result.stdout.trim();
  return result.ok && /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(sha) ? sha : undefined;
}

/**
 * A remote URL fit for a label: passwords and tokens removed. In `scheme://` URLs all of the
 * user part goes, except an ssh login name; in scp-like `user@host:path` a plain login name
 * (`git@github.com:org/repo`) stays, since it is no secret and is how people recognise the URL.
 */
export function stripCredentials(url: string): string {
  const withScheme = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@(.*)$/is.exec(url);
  if (withScheme) {
    const [, scheme = '', user = '', rest = ''] = withScheme;
    // https://user:token@ and https://token@ are both common ways to embed a token.
    const login = /ssh/i.test(scheme) ? (user.split(':')[0] ?? '') : '';
    return `${scheme}${login ? `${login}@` : ''}${rest}`;
  }
  const scpLike = /^([^@/]+)@([^/:]+:.*)$/s.exec(url);
  if (scpLike && !url.includes('://')) {
    const [, user = '', rest = ''] = scpLike;
    return user.includes(':') ? rest : url;
  }
  return url;
}

function notARepository(result: GitResult): boolean {
  return !result.ok && /not a git repository|cannot change to/i.test(result.stderr);
}

function gitFailed(dir: string, what: string, result: GitResult): FlotillaError {
  const detail = result.stderr.trim().split('\n').at(-1) ?? `exit ${String(result.code)}`;
  const dubious = /dubious ownership/i.test(result.stderr);
  return new FlotillaError('GIT_FAILED', `git ${what} failed in ${dir}: ${detail}`, {
    hint: dubious
      ? `The repository belongs to another user: trust it with \`git config --global --add safe.directory ${resolve(dir)}\`.`
      : 'Run the same git command in that directory to see what is wrong with the repository.',
  });
}

/** Runs git in `dir`; resolves whatever happens, so callers read the outcome instead of catching. */
function git(dir: string, args: string[], maxBuffer = 16 * 1024 * 1024): Promise<GitResult> {
  return new Promise((done) => {
    execFile('git', ['-C', dir, ...args], { env: gitEnv(), timeout: TIMEOUT_MS, maxBuffer, encoding: 'utf8' }, (error, stdout, stderr) => {
      // A numeric exit code, or a string for spawn and buffer failures.
      const code = error ? ((error as { code?: number | string | null }).code ?? undefined) : 0;
      done({ ok: !error, stdout, stderr, code });
    });
  });
}

/**
 * The environment without the variables a git hook sets (they would point git at another
 * repository than `dir`), in English for stable messages, never prompting, and without optional
 * locks, so `git status` does not fight the user's own git commands over index.lock.
 */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_PREFIX', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY']) delete env[name];
  return env;
}
