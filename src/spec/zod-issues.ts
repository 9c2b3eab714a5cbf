/**
 * zod issues → SpecIssues with positions and messages a person can act on:
 * "expected a list, found 'abc'", "missing required key 'target'", "unknown key 'imgae'; did you
 * mean 'image'?". Unions are explained by the branch that matches the kind of value written.
 */
import type * as z from 'zod';
import { ABOUT_KEY, COMPLETE_MESSAGE } from './schema/common.js';
import { locate, nodeAt, type IssueCollector } from './issues.js';
import { didYouMean } from './suggest.js';
import { describeNode, type PathSegment, type YNode } from './yaml-node.js';

type ZodIssue = z.core.$ZodIssue;

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  null: 'an empty value',
};

/** Reports zod issues for the value at `prefix` in `root`. */
export function reportZodIssues(issues: readonly ZodIssue[], prefix: readonly PathSegment[], root: YNode, out: IssueCollector): void {
  for (const issue of issues) report(issue, prefix, root, out);
}

function report(issue: ZodIssue, prefix: readonly PathSegment[], root: YNode, out: IssueCollector): void {
  const path = [...prefix, ...issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)))];
  const node = nodeAt(root, path);
  const found = describeNode(node);
  if (node === undefined && path.length > prefix.length && (issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value' || issue.code === 'custom')) {
    const parent = path.slice(0, -1);
    out.add(locate(root, parent, 'key'), parent, `missing required key '${String(path[path.length - 1])}'`);
    return;
  }
  switch (issue.code) {
    case 'invalid_union': {
      // Drop the branches that expected another kind of value altogether; explain the one left.
      const plausible = issue.errors.filter((branch) => !branch.every((inner) => inner.path.length === 0 && inner.code === 'invalid_type'));
      const best = plausible[0];
      if (best) reportZodIssues(best, path, root, out);
      else out.at(root, path, `expected ${issue.message}, found ${found}`);
      return;
    }
    case 'invalid_type': {
      out.at(root, path, `expected ${EXPECTED[issue.expected] ?? issue.expected}, found ${found}`);
      return;
    }
    case 'invalid_value': {
      const values = issue.values.map((value) => `'${String(value)}'`).join(', ');
      const written = node?.kind === 'scalar' ? String(node.value) : '';
      const hint = didYouMean(written, issue.values.map(String));
      out.at(root, path, `expected one of ${values}, found ${found}${hint}`);
      return;
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? `at least ${String(issue.minimum)}` : `at most ${String(issue.maximum)}`;
      const what = issue.origin === 'array' ? `a list of ${bound} items` : `a number of ${bound}`;
      out.at(root, path, `expected ${what}, found ${found}`);
      return;
    }
    case 'custom': {
      const params = issue.params as { kind?: string; target?: string } | undefined;
      const target = params?.target === ABOUT_KEY ? 'key' : 'value';
      const message = params?.kind === COMPLETE_MESSAGE ? issue.message : `expected ${issue.message}, found ${found}`;
      out.at(root, path, message, target);
      return;
    }
    case 'unrecognized_keys':
      for (const key of issue.keys) out.at(root, [...path, key], `unknown key '${key}'`, 'key');
      return;
    default:
      out.at(root, path, issue.message);
  }
}
