/** Finding and reading Compose files: default names, parent directories, override files. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SourcePosition } from '../core/errors.js';
import type { IssueCollector } from './issues.js';
import { parseYaml } from './parse-yaml.js';
import { describeNode, type PathSegment, type YMap } from './yaml-node.js';

/** Names Compose looks for, in order of preference. */
export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;
const OVERRIDE_FILE_NAMES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'] as const;

/** The default files found from `cwd` upwards, plus the override file beside them; undefined when none. */
export async function findDefaultFiles(cwd: string, warn: (message: string) => void): Promise<string[] | undefined> {
  let dir = path.resolve(cwd);
  for (;;) {
    const found: string[] = [];
    for (const name of DEFAULT_FILE_NAMES) if (await isFile(path.join(dir, name))) found.push(path.join(dir, name));
    const [first, ...others] = found;
    if (first !== undefined) {
      if (others.length > 0) warn(`found several Compose files in ${dir} (${found.map((f) => path.basename(f)).join(', ')}); using ${path.basename(first)}`);
      for (const name of OVERRIDE_FILE_NAMES) {
        if (await isFile(path.join(dir, name))) return [first, path.join(dir, name)];
      }
      return [first];
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** True when `file` exists and is a regular file (or a link to one). */
export async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Where a file was asked for, so a missing file is reported at the line that names it. */
export interface Reference {
  position?: SourcePosition | undefined;
  path: readonly PathSegment[];
}

/** Reads and parses one Compose file; every problem (missing, directory, syntax, not a mapping) becomes an issue. */
export async function readComposeFile(file: string, issues: IssueCollector, reference: Reference = { path: [] }): Promise<YMap | undefined> {
  let text: string;
  try {
    const info = await stat(file);
    if (info.isDirectory()) {
      issues.add(reference.position, reference.path, `${file} is a directory, not a Compose file`);
      return undefined;
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(error)})`;
    issues.add(reference.position, reference.path, `Compose file ${file} ${reason}`);
    return undefined;
  }
  const root = parseYaml(text, file, issues);
  if (root === undefined) return undefined;
  if (root.kind !== 'map') {
    issues.add(root.pos, '', `expected a mapping at the top level (services:, networks:, volumes:…), found ${describeNode(root)}`);
    return undefined;
  }
  return root;
}
