/**
 * Validation that still yields data when part of the input is wrong: the issues are reported,
 * the offending keys are set aside and the rest is parsed again, so the resolver can go on to
 * find the problems that only it can see (a bad port string next to a misspelt key).
 */
import type * as z from 'zod';
import type { IssueCollector } from './issues.js';
import { ABOUT_KEY } from './schema/common.js';
import type { PathSegment, YNode } from './yaml-node.js';
import { reportZodIssues } from './zod-issues.js';

/** The parsed data (when a second attempt without the bad keys succeeds) and the top-level keys that were set aside. */
export interface LenientResult<T> {
  data: T | undefined;
  /** Keys of the value (depth 1) removed before the second attempt. */
  stripped: Set<string>;
}

/**
 * Parses `value` (the plain form of the node at `prefix` in `root`), reporting every issue.
 * `depth(path)` says how much of an issue's path to remove: 1 drops the whole key under `value`.
 */
export function parseLeniently<S extends z.ZodType>(
  schema: S,
  value: unknown,
  at: { root: YNode; prefix: readonly PathSegment[]; issues: IssueCollector },
  depth: (path: readonly PathSegment[]) => number = () => 1,
): LenientResult<z.output<S>> {
  const first = schema.safeParse(value);
  if (first.success) return { data: first.data, stripped: new Set() };
  reportZodIssues(first.error.issues, at.prefix, at.root, at.issues);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { data: undefined, stripped: new Set() };
  const copy = structuredClone(value) as Record<string, unknown>;
  const stripped = new Set<string>();
  for (const issue of first.error.issues) {
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    const params = issue.code === 'custom' ? (issue.params as { target?: string } | undefined) : undefined;
    // An unknown key is removed exactly; a bad value takes its enclosing entry with it.
    const cut = params?.target === ABOUT_KEY ? path : path.slice(0, depth(path));
    if (cut.length === 0) return { data: undefined, stripped };
    stripped.add(String(cut[0]));
    remove(copy, cut);
  }
  const second = schema.safeParse(copy);
  return { data: second.success ? second.data : undefined, stripped };
}

function remove(target: Record<string, unknown>, path: readonly PathSegment[]): void {
  let node: unknown = target;
  for (const segment of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<string, unknown>)[String(segment)];
  }
  const last = path[path.length - 1];
  if (typeof node !== 'object' || node === null || last === undefined) return;
  if (Array.isArray(node)) node[Number(last)] = undefined;
  else Reflect.deleteProperty(node, String(last));
}
