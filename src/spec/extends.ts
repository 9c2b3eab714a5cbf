/**
 * `extends`: a service starts from another one (same file or another file) and overrides it with
 * the merge rules. Chains are followed; cycles, missing services and missing files are issues.
 * As the Compose docs say, `depends_on` and `volumes_from` are not inherited: a service's
 * dependencies stay visible in the file that declares it.
 */
import type { SourcePosition } from '../core/errors.js';
import type { IssueCollector } from './issues.js';
import { mergeNode } from './merge.js';
import { didYouMean } from './suggest.js';
import { child, describeNode, scalarText, withoutEntries, type YMap, type YNode } from './yaml-node.js';

const NOT_INHERITED = ['depends_on', 'volumes_from', 'extends'];

/** What resolving `extends` needs from the loader. */
export interface ExtendsContext {
  issues: IssueCollector;
  /** Another file's model: parsed, interpolated, paths resolved against its own directory; undefined on error (already reported). */
  loadFile: (file: string, referencedAt: SourcePosition | undefined, path: readonly (string | number)[]) => Promise<YMap | undefined>;
}

interface State {
  context: ExtendsContext;
  memo: Map<string, YNode>;
}

/** Resolves every `extends` in `model`'s services; `scope` names the model in messages and memo keys. */
export async function applyExtends(model: YMap, scope: string, context: ExtendsContext): Promise<YMap> {
  const services = model.entries.get('services')?.value;
  if (services?.kind !== 'map') return model;
  const state: State = { context, memo: new Map() };
  let changed = false;
  const entries = new Map(services.entries);
  for (const [name, entry] of services.entries) {
    const resolved = await resolveService(scope, services, name, [], state);
    if (resolved !== entry.value) {
      changed = true;
      entries.set(name, { keyPos: entry.keyPos, value: resolved });
    }
  }
  if (!changed) return model;
  const newEntries = new Map(model.entries);
  newEntries.set('services', { keyPos: model.entries.get('services')?.keyPos ?? model.pos, value: { ...services, entries } });
  return { ...model, entries: newEntries };
}

async function resolveService(scope: string, services: YMap, name: string, chain: readonly string[], state: State): Promise<YNode> {
  const memoKey = `${scope}\u0000${name}`;
  const cached = state.memo.get(memoKey);
  if (cached) return cached;
  // Memoized whatever the outcome, so a broken base is reported once, not once per service extending it.
  const resolved = await resolveUncached(scope, services, name, chain, state, memoKey);
  state.memo.set(memoKey, resolved);
  return resolved;
}

async function resolveUncached(scope: string, services: YMap, name: string, chain: readonly string[], state: State, memoKey: string): Promise<YNode> {
  const node = services.entries.get(name)?.value ?? services;
  if (node.kind !== 'map') return node;
  const extendsEntry = node.entries.get('extends');
  if (!extendsEntry) return node;
  const own = withoutEntries(node, ['extends']);
  // On failure the service keeps its `extends` key: the resolver then knows its image may be missing for that reason.
  const { issues } = state.context;
  const path = ['services', name, 'extends'];
  const ext = extendsEntry.value;
  let baseName: string | undefined;
  let baseFile: string | undefined;
  if (ext.kind === 'scalar' && typeof ext.value === 'string') {
    baseName = ext.value;
  } else if (ext.kind === 'map') {
    baseName = scalarText(child(ext, 'service'));
    baseFile = scalarText(child(ext, 'file'));
    if (baseName === undefined) {
      issues.add(child(ext, 'service')?.pos ?? extendsEntry.keyPos, [...path, 'service'], `expected the name of the service to extend, found ${describeNode(child(ext, 'service'))}`);
      return node;
    }
  } else {
    issues.add(ext.pos, path, `expected a service name or a mapping with service (and file), found ${describeNode(ext)}`);
    return node;
  }

  let baseServices = services;
  let baseScope = scope;
  if (baseFile !== undefined) {
    const fileNode = child(ext, 'file');
    const baseModel = await state.context.loadFile(baseFile, fileNode?.pos, [...path, 'file']);
    if (!baseModel) return node;
    const section = baseModel.entries.get('services')?.value;
    baseServices = section?.kind === 'map' ? section : { kind: 'map', pos: baseModel.pos, entries: new Map() };
    baseScope = baseFile;
  }
  const serviceNode = ext.kind === 'map' ? child(ext, 'service') : ext;
  if (!baseServices.entries.has(baseName)) {
    const where = baseFile === undefined ? '' : ` in ${baseFile}`;
    const candidates = [...baseServices.entries.keys()].filter((other) => baseFile !== undefined || other !== name);
    issues.add(serviceNode?.pos, ext.kind === 'map' ? [...path, 'service'] : path, `service '${baseName}' is not defined${where}${didYouMean(baseName, candidates)}`);
    return node;
  }
  const baseKey = `${baseScope}\u0000${baseName}`;
  if (baseKey === memoKey || chain.includes(baseKey)) {
    const names = [...chain, memoKey, baseKey].map((key) => key.slice(key.indexOf('\u0000') + 1));
    const start = names.indexOf(baseName);
    issues.add(serviceNode?.pos, ext.kind === 'map' ? [...path, 'service'] : path, `extends cycle: ${names.slice(start).join(' -> ')}`);
    return node;
  }
  const base = await resolveService(baseScope, baseServices, baseName, [...chain, memoKey], state);
  // The base could not be resolved (reported there): this service fails with it, quietly.
  if (base.kind === 'map' && base.entries.has('extends')) return node;
  const inherited = base.kind === 'map' ? withoutEntries(base, NOT_INHERITED) : base;
  return mergeNode(inherited, own, ['services', '*']) ?? own;
}
