/**
 * One project's raw model: every file parsed, interpolated, its paths made absolute, merged in
 * order; then `extends` and `include` applied. The result is still a positioned YAML tree;
 * validation and resolution come after.
 */
import path from 'node:path';
import type { SourcePosition } from '../core/errors.js';
import { readComposeFile } from './compose-files.js';
import { readEnvFiles } from './env-files.js';
import { applyExtends } from './extends.js';
import { applyIncludes, type IncludeRequest } from './include.js';
import type { Lookup } from './interpolate.js';
import { interpolateTree } from './interpolate-tree.js';
import { formatPath, type IssueCollector } from './issues.js';
import { clean, mergeNode } from './merge.js';
import { defaultBuildContexts, resolveModelPaths } from './relative-paths.js';
import { ymap, type PathSegment, type YMap } from './yaml-node.js';

/** What every stage of one load shares. */
export interface LoadSession {
  issues: IssueCollector;
  home: string;
  warn: (message: string) => void;
  /** Variables already warned about, so each unset variable is reported once. */
  warnedUnset: Set<string>;
}

/** One project to load: its files, directory and variables. */
export interface ProjectRequest {
  files: string[];
  projectDir: string;
  /** Variables for interpolation: env files, then the shell on top. */
  env: Record<string, string>;
  /** Files of the projects that include this one, to catch include cycles. */
  includeChain: readonly string[];
  /** Where an included project was named, for "file not found". */
  reference?: { position: SourcePosition | undefined; path: readonly PathSegment[] };
}

/** The merged model and every file it came from (included files first); undefined when a file could not be read. */
export async function loadModel(request: ProjectRequest, session: LoadSession): Promise<{ model: YMap; files: string[] } | undefined> {
  const lookup: Lookup = (name) => (Object.hasOwn(request.env, name) ? request.env[name] : undefined);
  let merged: YMap | undefined;
  let failed = false;
  for (const file of request.files) {
    const model = await loadFile(file, { dir: request.projectDir, lookup, ...(request.reference ? { reference: request.reference } : {}) }, session);
    if (!model) {
      failed = true;
      continue;
    }
    const next = mergeNode(merged ?? ymap(model.pos), model);
    merged = next?.kind === 'map' ? next : merged;
  }
  if (failed || !merged) return undefined;

  // Extended files are read once per load, whichever services extend them.
  const cache = new Map<string, Promise<YMap | undefined>>();
  const extended = await applyExtends(merged, '', {
    issues: session.issues,
    loadFile: (file, position, at) => {
      let pending = cache.get(file);
      if (!pending) {
        pending = loadFile(file, { dir: path.dirname(file), lookup, reference: { position, path: at } }, session);
        cache.set(file, pending);
      }
      return pending;
    },
  });

  const cleaned = clean(extended);
  const model = cleaned?.kind === 'map' ? cleaned : ymap(extended.pos);
  const chain = [...request.includeChain, ...request.files];
  const included = await applyIncludes(defaultBuildContexts(model, request.projectDir), {
    issues: session.issues,
    loadIncluded: (include) => loadIncluded(include, request.env, chain, session),
  });
  return { model: included.model, files: [...included.files, ...request.files] };
}

interface FileOptions {
  dir: string;
  lookup: Lookup;
  reference?: { position: SourcePosition | undefined; path: readonly PathSegment[] };
}

async function loadFile(file: string, options: FileOptions, session: LoadSession): Promise<YMap | undefined> {
  const parsed = await readComposeFile(file, session.issues, options.reference);
  if (!parsed) return undefined;
  const interpolated = interpolateTree(parsed, [], {
    lookup: options.lookup,
    issues: session.issues,
    onUnset: (variable, position, at) => {
      if (session.warnedUnset.has(variable)) return;
      session.warnedUnset.add(variable);
      session.warn(`${position.file}:${position.line}:${position.column} ${formatPath(at)}: variable '${variable}' is not set; using an empty string`);
    },
  });
  if (interpolated.kind !== 'map') return undefined;
  return resolveModelPaths(interpolated, { dir: options.dir, home: session.home });
}

async function loadIncluded(include: IncludeRequest, parentEnv: Record<string, string>, chain: readonly string[], session: LoadSession): Promise<{ model: YMap; files: string[] } | undefined> {
  const cycle = include.files.find((file) => chain.includes(file));
  if (cycle !== undefined) {
    const start = chain.indexOf(cycle);
    session.issues.add(include.position, include.path, `include cycle: ${[...chain.slice(start), cycle].join(' -> ')}`);
    return undefined;
  }
  const explicit = include.envFiles !== undefined;
  const envFiles = include.envFiles ?? [path.join(include.projectDir, '.env')];
  const parentLookup: Lookup = (name) => (Object.hasOwn(parentEnv, name) ? parentEnv[name] : undefined);
  const own = await readEnvFiles(envFiles, explicit, parentLookup, session.issues, { position: include.position, path: include.path });
  // The including project's environment wins over the included project's .env.
  const env = { ...own, ...parentEnv };
  return loadModel({ files: include.files, projectDir: include.projectDir, env, includeChain: chain, reference: { position: include.position, path: include.path } }, session);
}
