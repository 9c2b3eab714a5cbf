/**
 * Collects every problem found while loading, so a user sees all of them at once, and finds the
 * position of a key path in the YAML tree when a later stage (zod, resolve) reports by path.
 */
import { SpecError, type SourcePosition, type SpecIssue } from '../core/errors.js';
import type { PathSegment, YNode } from './yaml-node.js';

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `['services', 'api', 'ports', 1]` → `services.api.ports[1]`; odd keys are quoted: `labels["com.example"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Which part of an entry an issue is about. */
export type IssueTarget = 'key' | 'value';

/**
 * Where `path` is in `root`: the value's position, or for `key` the key's. When the path goes
 * further than the tree (a missing key), the deepest entry that exists is named instead.
 */
export function locate(root: YNode | undefined, path: readonly PathSegment[], target: IssueTarget = 'value'): SourcePosition | undefined {
  let node = root;
  let keyPos: SourcePosition | undefined;
  for (const segment of path) {
    if (node?.kind === 'map' && typeof segment === 'string') {
      const entry = node.entries.get(segment);
      if (!entry) return keyPos ?? node.pos;
      keyPos = entry.keyPos;
      node = entry.value;
    } else if (node?.kind === 'seq' && typeof segment === 'number') {
      const item = node.items[segment];
      if (!item) return keyPos ?? node.pos;
      keyPos = item.pos;
      node = item;
    } else {
      return keyPos ?? node?.pos;
    }
  }
  if (target === 'key') return keyPos ?? node?.pos;
  return node?.pos ?? keyPos;
}

/** The node at `path`, if the tree has one there. */
export function nodeAt(root: YNode | undefined, path: readonly PathSegment[]): YNode | undefined {
  let node = root;
  for (const segment of path) {
    if (node?.kind === 'map' && typeof segment === 'string') node = node.entries.get(segment)?.value;
    else if (node?.kind === 'seq' && typeof segment === 'number') node = node.items[segment];
    else return undefined;
  }
  return node;
}

/** Gathers issues from every stage; `throwIfAny` raises them together as one SpecError. */
export class IssueCollector {
  readonly issues: SpecIssue[] = [];
  /** Positions of values that could not be interpolated: what later stages say about them is a consequence. */
  private readonly rootCauses = new Set<string>();

  /** Adds an issue that makes any later issue at the same position redundant. */
  addRootCause(position: SourcePosition, path: readonly PathSegment[] | string, message: string): void {
    this.add(position, path, message);
    this.rootCauses.add(positionKey(position));
  }

  /** Adds an issue at an explicit position. */
  add(position: SourcePosition | undefined, path: readonly PathSegment[] | string, message: string): void {
    if (position && this.rootCauses.has(positionKey(position))) return;
    const shown = typeof path === 'string' ? path : formatPath(path);
    const issue: SpecIssue = { path: shown, message };
    if (position) issue.position = position;
    this.issues.push(issue);
  }

  /** Adds an issue located by its key path in `root`. */
  at(root: YNode | undefined, path: readonly PathSegment[], message: string, target: IssueTarget = 'value'): void {
    this.add(locate(root, path, target), path, message);
  }

  get count(): number {
    return this.issues.length;
  }

  /** Throws one SpecError with every issue, ordered by file and position, when there is any. */
  throwIfAny(): void {
    if (this.issues.length === 0) return;
    throw new SpecError(sortIssues(this.issues));
  }
}

function positionKey(position: SourcePosition): string {
  return `${position.file}:${position.line}:${position.column}`;
}

/** Issues in reading order: by file (first seen first), line, column; unplaced ones last. */
function sortIssues(issues: readonly SpecIssue[]): SpecIssue[] {
  const fileOrder = new Map<string, number>();
  for (const issue of issues) {
    const file = issue.position?.file;
    if (file !== undefined && !fileOrder.has(file)) fileOrder.set(file, fileOrder.size);
  }
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const key = `${issue.position?.file}:${issue.position?.line}:${issue.position?.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => {
      const pa = a.issue.position;
      const pb = b.issue.position;
      if (!pa || !pb) return pa ? -1 : pb ? 1 : a.index - b.index;
      return (
        (fileOrder.get(pa.file) ?? 0) - (fileOrder.get(pb.file) ?? 0) ||
        pa.line - pb.line ||
        pa.column - pb.column ||
        a.index - b.index
      );
    })
    .map(({ issue }) => issue);
}
