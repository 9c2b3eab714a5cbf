/** Reading `.env` / `--env-file` / include `env_file` files into variables for interpolation. */
import { readFile } from 'node:fs/promises';
import type { SourcePosition } from '../core/errors.js';
import { isFile } from './compose-files.js';
import { parseDotEnv } from './dotenv.js';
import type { Lookup } from './interpolate.js';
import type { IssueCollector } from './issues.js';
import type { PathSegment } from './yaml-node.js';

/** Where an env file was named, for "not found" messages. */
export interface EnvFileReference {
  position?: SourcePosition | undefined;
  path: readonly PathSegment[] | string;
}

/**
 * Variables from `files`, later files winning. A missing file is an issue when `required`
 * (named explicitly) and skipped otherwise. `lookup` serves `${VAR}` inside the files and bare `KEY` lines.
 */
export async function readEnvFiles(files: readonly string[], required: boolean, lookup: Lookup, issues: IssueCollector, reference: EnvFileReference = { path: '' }): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  const chained: Lookup = (name) => lookup(name) ?? (Object.hasOwn(values, name) ? values[name] : undefined);
  for (const file of files) {
    const text = await readText(file);
    if (text === undefined) {
      if (required) issues.add(reference.position, reference.path, `env file ${file} does not exist`);
      continue;
    }
    const parsed = parseDotEnv(text, file, chained);
    for (const problem of parsed.problems) issues.add(problem.position, '', problem.message);
    for (const [key, value] of parsed.values) {
      const resolved = value ?? lookup(key);
      if (resolved !== undefined) values[key] = resolved;
    }
  }
  return values;
}

/** The file's text, or undefined when it is missing or not a file. */
export async function readText(file: string): Promise<string | undefined> {
  if (!(await isFile(file))) return undefined;
  return readFile(file, 'utf8');
}
