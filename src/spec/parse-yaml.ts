/**
 * YAML text → YNode tree with a position for every key and value. Syntax errors, duplicate keys,
 * non-string keys and empty files become issues; anchors, aliases and `<<` merge keys are expanded
 * here so later stages see plain data.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node as YamlAstNode } from 'yaml';
import type { SourcePosition } from '../core/errors.js';
import type { IssueCollector } from './issues.js';
import { ymap, yscalar, yseq, type MergeTag, type PathSegment, type YEntry, type YMap, type YNode } from './yaml-node.js';

/** Expanding aliases can blow up a small file ("billion laughs"); no real Compose file comes near this. */
const MAX_NODES = 1_000_000;

const FRIENDLY: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'a tab is used for indentation; YAML only allows spaces',
  BAD_INDENT: 'bad indentation: keys of the same mapping must start at the same column',
  BLOCK_AS_IMPLICIT_KEY: 'bad indentation: a nested mapping must be indented under its key',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line (is a colon or an indentation level missing above?)',
  MULTIPLE_DOCS: 'the file holds several YAML documents (---); a Compose file is one document',
};

interface ConvertContext {
  file: string;
  lines: LineCounter;
  issues: IssueCollector;
  nodes: number;
  /** Anchored nodes by name, in document order: built once, since Alias.resolve() walks the whole document each time. */
  anchors: Map<string, YamlAstNode[]>;
}

/** Parses one Compose (or included/extended) file; undefined when it has syntax errors or is empty. */
export function parseYaml(text: string, file: string, issues: IssueCollector): YNode | undefined {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, merge: true, version: '1.2' });
  if (doc.errors.length > 0) {
    const seenLines = new Set<number>();
    for (const error of doc.errors) {
      const { line, col } = error.code === 'MISSING_CHAR' ? openingQuote(source, error.message, lines.linePos(error.pos[0])) : lines.linePos(error.pos[0]);
      // One error per line: the YAML parser often reports the same mistake twice.
      if (seenLines.has(line)) continue;
      seenLines.add(line);
      const message = FRIENDLY[error.code] ?? lowerFirst(error.message);
      issues.add({ file, line, column: col }, '', `invalid YAML: ${message}`);
    }
    return undefined;
  }
  if (doc.contents === null) {
    issues.add({ file, line: 1, column: 1 }, '', 'the file is empty; expected a mapping with a services: key');
    return undefined;
  }
  const context: ConvertContext = { file, lines, issues, nodes: 0, anchors: anchorsOf(doc) };
  try {
    return convert(doc.contents, context, []);
  } catch (error) {
    if (error instanceof TooLarge) {
      issues.add({ file, line: 1, column: 1 }, '', `anchors and aliases expand to more than ${MAX_NODES} values`);
      return undefined;
    }
    throw error;
  }
}

class TooLarge extends Error {}

function anchorsOf(doc: Document.Parsed): Map<string, YamlAstNode[]> {
  const anchors = new Map<string, YamlAstNode[]>();
  visit(doc, {
    Node(_key, node) {
      if (!isAlias(node) && node.anchor) {
        const list = anchors.get(node.anchor);
        if (list) list.push(node);
        else anchors.set(node.anchor, [node]);
      }
    },
  });
  return anchors;
}

/** The node an alias names: the last anchor of that name defined before the alias, as YAML says. */
function resolveAlias(alias: Alias, context: ConvertContext): YamlAstNode | undefined {
  const start = alias.range?.[0] ?? Infinity;
  let found: YamlAstNode | undefined;
  for (const node of context.anchors.get(alias.source) ?? []) if ((node.range?.[0] ?? Infinity) < start) found = node;
  return found;
}

function position(context: ConvertContext, offset: number): SourcePosition {
  const { line, col } = context.lines.linePos(offset);
  return { file: context.file, line, column: col };
}

function mergeTag(node: YamlAstNode): MergeTag | undefined {
  const tag = node.tag;
  return tag === '!reset' ? 'reset' : tag === '!override' ? 'override' : undefined;
}

function convert(node: YamlAstNode, context: ConvertContext, path: PathSegment[], seen: readonly YamlAstNode[] = []): YNode {
  if (++context.nodes > MAX_NODES) throw new TooLarge();
  const pos = position(context, node.range?.[0] ?? 0);
  if (isAlias(node)) {
    const target = resolveAlias(node, context);
    if (!target || seen.includes(target)) {
      context.issues.add(pos, path, `alias *${node.source} does not name an anchor defined before it`);
      return yscalar(pos, null);
    }
    return convert(target, context, path, [...seen, target]);
  }
  if (isScalar(node)) return convertScalar(node.value, node.source, node.type, pos, mergeTag(node));
  if (isSeq(node)) {
    const items = node.items.map((item, index) => convertItem(item, context, [...path, index], seen, pos));
    return yseq(pos, items, mergeTag(node));
  }
  if (isMap(node)) return convertMap(node.items, context, path, seen, pos, mergeTag(node));
  return yscalar(pos, null);
}

function convertItem(item: unknown, context: ConvertContext, path: PathSegment[], seen: readonly YamlAstNode[], fallback: SourcePosition): YNode {
  // A flow sequence may hold `[a: b]` pairs; they read as one-key mappings.
  if (isPair(item)) return convertMap([item], context, path, seen, fallback, undefined);
  if (item === null || item === undefined) return yscalar(fallback, null);
  return convert(item as YamlAstNode, context, path, seen);
}

function convertScalar(value: unknown, source: string | undefined, type: string | undefined, pos: SourcePosition, tag: MergeTag | undefined): YNode {
  if (typeof value === 'number' && type === 'PLAIN' && source !== undefined && /^0[0-7]+$/.test(source)) {
    // Compose reads YAML 1.1 octals (`mode: 0440`); YAML 1.2 would read 440.
    return yscalar(pos, Number.parseInt(source, 8), tag);
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return yscalar(pos, value, tag);
  if (typeof value === 'bigint') return yscalar(pos, Number(value), tag);
  return yscalar(pos, value === undefined ? null : textOf(value), tag);
}

function convertMap(
  pairs: readonly unknown[],
  context: ConvertContext,
  path: PathSegment[],
  seen: readonly YamlAstNode[],
  pos: SourcePosition,
  tag: MergeTag | undefined,
): YMap {
  const entries = new Map<string, YEntry>();
  const merged: YMap[] = [];
  for (const pair of pairs) {
    if (!isPair(pair)) continue;
    const keyNode = pair.key as YamlAstNode | null;
    const keyPos = keyNode?.range ? position(context, keyNode.range[0]) : pos;
    if (isScalar(keyNode) && (typeof keyNode.value === 'symbol' || (keyNode.value === '<<' && keyNode.type === 'PLAIN'))) {
      merged.push(...mergeSources(pair.value as YamlAstNode | null, context, path, seen, keyPos));
      continue;
    }
    if (!isScalar(keyNode) || (typeof keyNode.value === 'object' && keyNode.value !== null)) {
      context.issues.add(keyPos, path, 'a key must be a plain string, not a mapping or a list');
      continue;
    }
    const key = keyNode.value === null ? '' : textOf(keyNode.value);
    const previous = entries.get(key);
    if (previous) {
      context.issues.add(keyPos, [...path, key], `duplicate key '${key}' (first defined at line ${previous.keyPos.line})`);
      continue;
    }
    const valueNode = pair.value as YamlAstNode | null;
    let value: YNode;
    if (valueNode === null || (isScalar(valueNode) && valueNode.value === null && valueNode.source === '' && !valueNode.tag)) {
      // `key:` with nothing after it: point at the key, not at the empty space after the colon.
      value = yscalar(keyPos, null);
    } else {
      value = convert(valueNode, context, [...path, key], seen);
    }
    entries.set(key, { keyPos, value });
  }
  // YAML merge keys: explicit keys win, then earlier merged mappings win over later ones.
  for (const source of merged) {
    for (const [key, entry] of source.entries) if (!entries.has(key)) entries.set(key, entry);
  }
  return ymap(pos, entries, tag);
}

function mergeSources(value: YamlAstNode | null, context: ConvertContext, path: PathSegment[], seen: readonly YamlAstNode[], keyPos: SourcePosition): YMap[] {
  if (value === null) return [];
  const sources = isSeq(value) ? (value.items as YamlAstNode[]) : [value];
  const maps: YMap[] = [];
  for (const source of sources) {
    // An alias to nothing is reported by convert(); it is not also a "not a mapping" problem.
    if (isAlias(source) && !resolveAlias(source, context)) {
      convert(source, context, path, seen);
      continue;
    }
    const node = convert(source, context, path, seen);
    if (node.kind === 'map') maps.push(node);
    else context.issues.add(keyPos, path, `'<<' can only merge mappings; found ${node.kind === 'seq' ? 'a list' : 'a value'}`);
  }
  return maps;
}

/**
 * The YAML parser reports an unclosed quote where the file ends; the useful place is where the
 * quote opens: the last line at or before that point with an odd number of such quotes.
 */
function openingQuote(source: string, message: string, end: { line: number; col: number }): { line: number; col: number } {
  const quote = message.includes("'") ? "'" : '"';
  const lines = source.split('\n');
  for (let index = Math.min(end.line, lines.length) - 1; index >= 0; index--) {
    const text = lines[index] ?? '';
    if ((text.split(quote).length - 1) % 2 === 1) return { line: index + 1, col: text.lastIndexOf(quote) + 1 };
  }
  return end;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

function lowerFirst(text: string): string {
  return text.length === 0 ? text : text.charAt(0).toLowerCase() + text.slice(1);
}
