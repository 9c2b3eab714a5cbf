/**
 * The loader's own YAML tree: plain data plus the position of every key and value.
 * Every stage before validation (interpolation, merge, extends, include) works on this tree, so a
 * value keeps pointing at the file and line it was written in, whichever file it came from.
 * Nodes are never mutated once built; stages return new nodes where something changed.
 */
import type { SourcePosition } from '../core/errors.js';

/** One step of a key path: a mapping key or a sequence index. */
export type PathSegment = string | number;

/** `!reset` and `!override`, the two tags the Compose merge rules give a meaning to. */
export type MergeTag = 'reset' | 'override';

/** Any node of the tree. */
export type YNode = YMap | YSeq | YScalar;

/** A mapping, keys in source order. */
export interface YMap {
  kind: 'map';
  pos: SourcePosition;
  entries: Map<string, YEntry>;
  tag?: MergeTag | undefined;
}

/** A mapping entry: where its key is written, and its value. */
export interface YEntry {
  keyPos: SourcePosition;
  value: YNode;
}

/** A sequence. */
export interface YSeq {
  kind: 'seq';
  pos: SourcePosition;
  items: YNode[];
  tag?: MergeTag | undefined;
}

/** What a scalar holds after YAML parsing. */
export type ScalarValue = string | number | boolean | null;

/** A scalar value. */
export interface YScalar {
  kind: 'scalar';
  pos: SourcePosition;
  value: ScalarValue;
  tag?: MergeTag | undefined;
}

/** A new mapping node. */
export function ymap(pos: SourcePosition, entries: Map<string, YEntry> = new Map(), tag?: MergeTag): YMap {
  return tag === undefined ? { kind: 'map', pos, entries } : { kind: 'map', pos, entries, tag };
}

/** A new sequence node. */
export function yseq(pos: SourcePosition, items: YNode[], tag?: MergeTag): YSeq {
  return tag === undefined ? { kind: 'seq', pos, items } : { kind: 'seq', pos, items, tag };
}

/** A new scalar node. */
export function yscalar(pos: SourcePosition, value: ScalarValue, tag?: MergeTag): YScalar {
  return tag === undefined ? { kind: 'scalar', pos, value } : { kind: 'scalar', pos, value, tag };
}

/** The value under `key` when `node` is a mapping. */
export function child(node: YNode | undefined, key: string): YNode | undefined {
  return node?.kind === 'map' ? node.entries.get(key)?.value : undefined;
}

/** The string value of a scalar node, numbers included; undefined for anything else. */
export function scalarText(node: YNode | undefined): string | undefined {
  if (node?.kind !== 'scalar' || node.value === null) return undefined;
  return typeof node.value === 'boolean' ? undefined : String(node.value);
}

/** A copy of `map` with `key` set to `value` (keeping the key's position when it existed). */
export function withEntry(map: YMap, key: string, value: YNode, keyPos?: SourcePosition): YMap {
  const entries = new Map(map.entries);
  const existing = entries.get(key);
  entries.set(key, { keyPos: keyPos ?? existing?.keyPos ?? value.pos, value });
  return { ...map, entries };
}

/** A copy of `map` without the given keys. */
export function withoutEntries(map: YMap, keys: readonly string[]): YMap {
  if (!keys.some((key) => map.entries.has(key))) return map;
  const entries = new Map(map.entries);
  for (const key of keys) entries.delete(key);
  return { ...map, entries };
}

/** Plain JavaScript data for validation; `__proto__` and friends stay ordinary keys. */
export function toPlain(node: YNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [key, entry] of node.entries) {
        Object.defineProperty(out, key, { value: toPlain(entry.value), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}

/** Structural equality, positions ignored. */
export function sameData(a: YNode, b: YNode): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'scalar') return a.value === (b as YScalar).value;
  if (a.kind === 'seq') {
    const items = (b as YSeq).items;
    return a.items.length === items.length && a.items.every((item, i) => sameData(item, items[i] as YNode));
  }
  const entries = (b as YMap).entries;
  if (a.entries.size !== entries.size) return false;
  for (const [key, entry] of a.entries) {
    const other = entries.get(key);
    if (!other || !sameData(entry.value, other.value)) return false;
  }
  return true;
}

/** What a node is, for messages: `a mapping`, `a list`, `'abc'`, `8080`, `an empty value`. */
export function describeNode(node: YNode | undefined): string {
  if (node === undefined) return 'nothing';
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  const value = node.value;
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    if (value === '') return 'an empty string';
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${shown}'`;
  }
  return String(value);
}
