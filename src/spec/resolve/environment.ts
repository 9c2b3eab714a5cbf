/** A service's environment: its env_file files in order, then `environment` on top. */
import { parseDotEnv } from '../dotenv.js';
import { readText } from '../env-files.js';
import type { RawService } from '../schema/service.js';
import type { PathSegment } from '../yaml-node.js';
import type { ResolveContext } from './context.js';
import { keyValueRecord, setOwn } from './key-values.js';

/** The resolved environment of one service. */
export async function resolveEnvironment(raw: RawService, path: readonly PathSegment[], context: ResolveContext): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const files = raw.env_file === undefined ? [] : typeof raw.env_file === 'string' ? [raw.env_file] : raw.env_file;
  const single = typeof raw.env_file === 'string';
  for (const [index, item] of files.entries()) {
    const file = typeof item === 'string' ? item : item.path;
    const required = typeof item === 'string' ? true : (item.required ?? true);
    const at = single ? [...path, 'env_file'] : [...path, 'env_file', index];
    const text = await readText(file);
    if (text === undefined) {
      if (required) context.fail(at, `env file ${file} does not exist`);
      continue;
    }
    const parsed = parseDotEnv(text, file, context.lookup);
    for (const problem of parsed.problems) context.issues.add(problem.position, '', problem.message);
    for (const [key, value] of parsed.values) {
      const resolved = value ?? context.lookup(key);
      if (resolved !== undefined) setOwn(env, key, resolved);
    }
  }
  for (const [key, value] of Object.entries(keyValueRecord(raw.environment, [...path, 'environment'], context, 'lookup'))) setOwn(env, key, value);
  return env;
}
