/**
 * Makes every host path in a file absolute before files are merged: in `-f` files against the
 * project directory, in included and extended files against their own directory, as the spec
 * says. `~` is the user's home. Paths that are already absolute are left alone, so running this
 * twice changes nothing.
 */
import path from 'node:path';
import { withEntry, yscalar, type YMap, type YNode } from './yaml-node.js';

/** Where relative paths point and what `~` means. */
export interface PathBase {
  dir: string;
  home: string;
}

/** An absolute path for `p`, relative to `base.dir`, with `~` expanded. */
export function absolutize(p: string, base: PathBase): string {
  if (p === '~') return base.home;
  if (p.startsWith('~/')) return path.join(base.home, p.slice(2));
  return path.resolve(base.dir, p);
}

/** A build context that is not a local directory (git repository or URL). */
export function isRemoteContext(context: string): boolean {
  return /^(https?:\/\/|git@|git:\/\/|ssh:\/\/|github\.com\/)/.test(context) || /\.git(#.*)?$/.test(context);
}

/** True for a volume source that names a host path rather than a volume. */
export function isHostPath(source: string): boolean {
  return source.startsWith('/') || source.startsWith('.') || source === '~' || source.startsWith('~/');
}

/** Resolves the paths of a whole file (services, secrets/configs files, include entries). */
export function resolveModelPaths(model: YMap, base: PathBase): YMap {
  let out = model;
  const services = model.entries.get('services')?.value;
  if (services?.kind === 'map') {
    out = withEntry(out, 'services', mapValues(services, (service) => resolveServicePaths(service, base)));
  }
  for (const section of ['secrets', 'configs']) {
    const node = model.entries.get(section)?.value;
    if (node?.kind === 'map') out = withEntry(out, section, mapValues(node, (item) => updateKey(item, 'file', (file) => pathNode(file, base))));
  }
  const include = model.entries.get('include')?.value;
  if (include?.kind === 'seq') {
    out = withEntry(out, 'include', { ...include, items: include.items.map((item) => resolveIncludePaths(item, base)) });
  }
  return out;
}

/** Resolves the host paths of one service: build context, env_file, bind mounts, extends.file. */
export function resolveServicePaths(service: YNode, base: PathBase): YNode {
  if (service.kind !== 'map') return service;
  let out = service;
  out = updateKey(out, 'build', (build) => {
    if (build.kind === 'scalar') return contextNode(build, base);
    return updateKey(build, 'context', (context) => contextNode(context, base));
  });
  out = updateKey(out, 'env_file', (envFile) => {
    if (envFile.kind === 'scalar') return pathNode(envFile, base);
    if (envFile.kind !== 'seq') return envFile;
    return { ...envFile, items: envFile.items.map((item) => (item.kind === 'map' ? updateKey(item, 'path', (p) => pathNode(p, base)) : pathNode(item, base))) };
  });
  out = updateKey(out, 'volumes', (volumes) => {
    if (volumes.kind !== 'seq') return volumes;
    return { ...volumes, items: volumes.items.map((volume) => volumePaths(volume, base)) };
  });
  out = updateKey(out, 'extends', (ext) => updateKey(ext, 'file', (file) => pathNode(file, base)));
  return out;
}

function resolveIncludePaths(item: YNode, base: PathBase): YNode {
  if (item.kind === 'scalar') return pathNode(item, base);
  if (item.kind !== 'map') return item;
  const listOrOne = (node: YNode): YNode => (node.kind === 'seq' ? { ...node, items: node.items.map((p) => pathNode(p, base)) } : pathNode(node, base));
  let out = updateKey(item, 'path', listOrOne);
  out = updateKey(out, 'project_directory', (dir) => pathNode(dir, base));
  return updateKey(out, 'env_file', listOrOne);
}

function volumePaths(volume: YNode, base: PathBase): YNode {
  if (volume.kind === 'scalar' && typeof volume.value === 'string') {
    const colon = volume.value.indexOf(':');
    if (colon <= 0) return volume;
    const source = volume.value.slice(0, colon);
    if (!isHostPath(source)) return volume;
    return yscalar(volume.pos, absolutize(source, base) + volume.value.slice(colon), volume.tag);
  }
  if (volume.kind !== 'map') return volume;
  const type = volume.entries.get('type')?.value;
  if (type?.kind !== 'scalar' || type.value !== 'bind') return volume;
  return updateKey(volume, 'source', (source) => pathNode(source, base));
}

function pathNode(node: YNode, base: PathBase): YNode {
  if (node.kind !== 'scalar' || typeof node.value !== 'string' || node.value === '') return node;
  const resolved = absolutize(node.value, base);
  return resolved === node.value ? node : yscalar(node.pos, resolved, node.tag);
}

function contextNode(node: YNode, base: PathBase): YNode {
  if (node.kind === 'scalar' && typeof node.value === 'string' && isRemoteContext(node.value)) return node;
  return pathNode(node, base);
}

function updateKey(node: YMap, key: string, update: (value: YNode) => YNode): YMap;
function updateKey(node: YNode, key: string, update: (value: YNode) => YNode): YNode;
function updateKey(node: YNode, key: string, update: (value: YNode) => YNode): YNode {
  if (node.kind !== 'map') return node;
  const entry = node.entries.get(key);
  if (!entry) return node;
  const value = update(entry.value);
  return value === entry.value ? node : withEntry(node, key, value);
}

function mapValues(map: YMap, update: (value: YNode) => YNode): YMap {
  let changed = false;
  const entries = new Map(map.entries);
  for (const [key, entry] of map.entries) {
    const value = update(entry.value);
    if (value !== entry.value) {
      changed = true;
      entries.set(key, { keyPos: entry.keyPos, value });
    }
  }
  return changed ? { ...map, entries } : map;
}

/**
 * Gives every `build:` mapping without a context the project directory, as the spec's default.
 * Runs once per project after merging, so an overlay that only changes the dockerfile keeps the
 * base file's context.
 */
export function defaultBuildContexts(model: YMap, dir: string): YMap {
  const services = model.entries.get('services')?.value;
  if (services?.kind !== 'map') return model;
  const updated = mapValues(services, (service) =>
    updateKey(service, 'build', (build) => (build.kind === 'map' && !build.entries.has('context') ? withEntry(build, 'context', yscalar(build.pos, dir)) : build)),
  );
  return updated === services ? model : withEntry(model, 'services', updated);
}
