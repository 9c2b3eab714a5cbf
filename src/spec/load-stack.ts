/** `loadStack`: from command-line options to a resolved, validated Stack. */
import os from 'node:os';
import path from 'node:path';
import { InternalError, UsageError } from '../core/errors.js';
import { DEFAULT_FILE_NAMES, findDefaultFiles } from './compose-files.js';
import { readEnvFiles, readText } from './env-files.js';
import { parseDotEnv } from './dotenv.js';
import type { Lookup } from './interpolate.js';
import { IssueCollector } from './issues.js';
import type { LoadOptions } from './load-options.js';
import { loadModel } from './load-model.js';
import { resolveStack } from './resolve-stack.js';
import type { Stack } from './types.js';

/** Loads, merges, validates and resolves a Compose project; throws SpecError listing every problem found. */
export async function loadStack(options: LoadOptions): Promise<Stack> {
  const issues = new IssueCollector();
  const warn = options.onWarning ?? (() => undefined);
  const shell: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) shell[key] = value;
  const shellLookup: Lookup = (name) => (Object.hasOwn(shell, name) ? shell[name] : undefined);
  const cwd = path.resolve(options.cwd);
  const explicitEnvFiles = options.envFiles?.map((file) => path.resolve(cwd, file));

  const files = await composeFiles(options, cwd, shell, warn);
  const first = files[0];
  if (first === undefined) throw new InternalError('no Compose file selected');
  const projectDir = options.projectDirectory === undefined ? path.dirname(first) : path.resolve(cwd, options.projectDirectory);
  const envFiles = explicitEnvFiles ?? [path.join(projectDir, '.env')];
  const dotenv = await readEnvFiles(envFiles, explicitEnvFiles !== undefined, shellLookup, issues, { path: '--env-file' });
  // The shell wins over env files.
  const env = { ...dotenv, ...shell };

  const loaded = await loadModel(
    { files, projectDir, env, includeChain: [] },
    { issues, home: shell['HOME'] ?? os.homedir(), warn, warnedUnset: new Set() },
  );
  if (!loaded) {
    issues.throwIfAny();
    throw new InternalError('the Compose model could not be loaded, but no problem was reported');
  }
  const profilesVar = env['COMPOSE_PROFILES'];
  return resolveStack({
    model: loaded.model,
    files: loaded.files,
    projectDir,
    env,
    projectName: options.projectName,
    profiles: options.profiles ?? (profilesVar ? profilesVar.split(',').map((p) => p.trim()).filter(Boolean) : []),
    services: options.services ?? [],
    issues,
    warn,
  });
}

/** `-f` files, else COMPOSE_FILE (from the shell, an --env-file or the .env where the search starts), else the default names. */
async function composeFiles(options: LoadOptions, cwd: string, shell: Record<string, string>, warn: (message: string) => void): Promise<string[]> {
  if (options.files && options.files.length > 0) return options.files.map((file) => path.resolve(cwd, file));
  const start = options.projectDirectory === undefined ? cwd : path.resolve(cwd, options.projectDirectory);
  const fromEnv = shell['COMPOSE_FILE'] ?? (await composeFileFromEnvFiles(options, cwd, start, shell));
  if (fromEnv) {
    const separator = shell['COMPOSE_PATH_SEPARATOR'] ?? (process.platform === 'win32' ? ';' : ':');
    return fromEnv.split(separator).filter(Boolean).map((file) => path.resolve(start, file));
  }
  const found = await findDefaultFiles(start, warn);
  if (!found) {
    throw new UsageError(`no Compose file found in ${start} or any parent directory (looked for ${DEFAULT_FILE_NAMES.join(', ')})`, {
      hint: 'Run the command where your compose.yaml is, or pass it with -f.',
    });
  }
  return found;
}

async function composeFileFromEnvFiles(options: LoadOptions, cwd: string, start: string, shell: Record<string, string>): Promise<string | undefined> {
  const candidates = options.envFiles?.map((file) => path.resolve(cwd, file)) ?? [path.join(start, '.env')];
  let value: string | undefined;
  for (const file of candidates) {
    const text = await readText(file);
    if (text === undefined) continue;
    // Problems in these files are reported when they are read for real, after the files are known.
    value = parseDotEnv(text, file, (name) => (Object.hasOwn(shell, name) ? shell[name] : undefined)).values.get('COMPOSE_FILE') ?? value;
  }
  return value;
}
