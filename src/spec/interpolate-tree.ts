/** Applies interpolation to every string value of a parsed file, per file and before merging, as Compose does. */
import type { SourcePosition } from '../core/errors.js';
import { interpolate, InterpolationError, type Lookup } from './interpolate.js';
import type { IssueCollector } from './issues.js';
import { yscalar, type PathSegment, type YEntry, type YNode } from './yaml-node.js';

/** Variables and where to report problems. */
export interface TreeInterpolationContext {
  lookup: Lookup;
  issues: IssueCollector;
  /** Called once per use of an unset variable without a default (it became an empty string). */
  onUnset: (variable: string, position: SourcePosition, path: readonly PathSegment[]) => void;
}

/** A copy of `node` with every string value interpolated; errors become issues and leave the value as written. */
export function interpolateTree(node: YNode, path: PathSegment[], context: TreeInterpolationContext): YNode {
  switch (node.kind) {
    case 'scalar': {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return node;
      try {
        const result = interpolate(node.value, context.lookup);
        for (const variable of result.unset) context.onUnset(variable, node.pos, path);
        return yscalar(node.pos, result.value, node.tag);
      } catch (error) {
        if (!(error instanceof InterpolationError)) throw error;
        context.issues.addRootCause(node.pos, path, error.message);
        return node;
      }
    }
    case 'seq': {
      let changed = false;
      const items = node.items.map((item, index) => {
        const next = interpolateTree(item, [...path, index], context);
        changed ||= next !== item;
        return next;
      });
      return changed ? { ...node, items } : node;
    }
    case 'map': {
      let changed = false;
      const entries = new Map<string, YEntry>();
      for (const [key, entry] of node.entries) {
        const value = interpolateTree(entry.value, [...path, key], context);
        changed ||= value !== entry.value;
        entries.set(key, value === entry.value ? entry : { keyPos: entry.keyPos, value });
      }
      return changed ? { ...node, entries } : node;
    }
  }
}
