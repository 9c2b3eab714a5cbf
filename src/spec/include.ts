/**
 * `include`: each entry is loaded as a project of its own (its own directory for relative paths,
 * its own .env, overridden by the including project's environment), then its services, networks,
 * volumes, secrets and configs are added to the including model. A name defined on both sides
 * with different content is an issue.
 */
import path from 'node:path';
import type { SourcePosition } from '../core/errors.js';
import type { IssueCollector } from './issues.js';
import { describeNode, sameData, scalarText, ymap, type PathSegment, type YEntry, type YMap, type YNode } from './yaml-node.js';

const SECTIONS = [
  ['services', 'service'],
  ['networks', 'network'],
  ['volumes', 'volume'],
  ['secrets', 'secret'],
  ['configs', 'config'],
] as const;

/** One include entry, paths already absolute. */
export interface IncludeRequest {
  files: string[];
  projectDir: string;
  /** Explicit env files; undefined means `<projectDir>/.env` when present. */
  envFiles: string[] | undefined;
  position: SourcePosition;
  path: PathSegment[];
}

/** What applying `include` needs from the loader. */
export interface IncludeContext {
  issues: IssueCollector;
  /** Loads an included project fully (its own includes too); undefined on error (already reported). */
  loadIncluded: (request: IncludeRequest) => Promise<{ model: YMap; files: string[] } | undefined>;
}

/** The model with every include applied and the `include` key removed, plus the included files in load order. */
export async function applyIncludes(model: YMap, context: IncludeContext): Promise<{ model: YMap; files: string[] }> {
  const include = model.entries.get('include');
  if (!include) return { model, files: [] };
  const entries = new Map(model.entries);
  entries.delete('include');
  const files: string[] = [];
  const { issues } = context;
  if (include.value.kind !== 'seq') {
    issues.add(include.value.pos, ['include'], `expected a list of files to include, found ${describeNode(include.value)}`);
    return { model: { ...model, entries }, files };
  }
  for (const [index, item] of include.value.items.entries()) {
    const request = parseRequest(item, ['include', index], issues);
    if (!request) continue;
    const included = await context.loadIncluded(request);
    if (!included) continue;
    files.push(...included.files);
    for (const [section, noun] of SECTIONS) {
      const theirs = included.model.entries.get(section)?.value;
      if (theirs?.kind !== 'map') continue;
      const oursEntry = entries.get(section);
      const ours = oursEntry?.value.kind === 'map' ? oursEntry.value : ymap(theirs.pos);
      const merged = new Map<string, YEntry>(ours.entries);
      for (const [name, entry] of theirs.entries) {
        const mine = merged.get(name);
        if (!mine) {
          merged.set(name, entry);
        } else if (!sameData(mine.value, entry.value)) {
          const at = entry.keyPos;
          issues.add(mine.keyPos, [section, name], `${noun} '${name}' conflicts with the ${noun} of the same name in included file ${at.file}:${at.line}:${at.column}`);
        }
      }
      entries.set(section, { keyPos: oursEntry?.keyPos ?? theirs.pos, value: { ...ours, entries: merged } });
    }
  }
  return { model: { ...model, entries }, files };
}

function parseRequest(item: YNode, at: PathSegment[], issues: IssueCollector): IncludeRequest | undefined {
  const list = (node: YNode | undefined, key: string): string[] | undefined => {
    if (node === undefined) return undefined;
    const values = node.kind === 'seq' ? node.items.map(scalarText) : [scalarText(node)];
    if (values.length > 0 && values.every((value): value is string => value !== undefined && value !== '')) return values;
    issues.add(node.pos, [...at, key], `expected a path or a list of paths, found ${describeNode(node)}`);
    return undefined;
  };
  if (item.kind === 'scalar') {
    const files = list(item, 'path');
    const first = files?.[0];
    if (!files || first === undefined) return undefined;
    return { files, projectDir: path.dirname(first), envFiles: undefined, position: item.pos, path: at };
  }
  if (item.kind !== 'map') {
    issues.add(item.pos, at, `expected a path or a mapping with path, found ${describeNode(item)}`);
    return undefined;
  }
  let ok = true;
  for (const [key, entry] of item.entries) {
    if (key !== 'path' && key !== 'project_directory' && key !== 'env_file') {
      issues.add(entry.keyPos, [...at, key], `unknown key '${key}' (allowed: path, project_directory, env_file)`);
      ok = false;
    }
  }
  const pathNode = item.entries.get('path')?.value;
  if (!pathNode) {
    issues.add(item.pos, at, "missing required key 'path'");
    return undefined;
  }
  const files = list(pathNode, 'path');
  const first = files?.[0];
  const dirNode = item.entries.get('project_directory')?.value;
  const projectDir = dirNode === undefined ? undefined : scalarText(dirNode);
  if (dirNode !== undefined && projectDir === undefined) {
    issues.add(dirNode.pos, [...at, 'project_directory'], `expected a directory path, found ${describeNode(dirNode)}`);
    ok = false;
  }
  const envFiles = list(item.entries.get('env_file')?.value, 'env_file');
  if (!ok || !files || first === undefined) return undefined;
  return { files, projectDir: projectDir ?? path.dirname(first), envFiles, position: pathNode.pos, path: [...at, 'path'] };
}
