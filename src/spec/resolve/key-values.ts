/** `environment`, `labels`, `args`…: a mapping or a `KEY=VALUE` list to one record. */
import type { PathSegment } from '../yaml-node.js';
import type { ResolveContext } from './context.js';

/** A KEY=VALUE collection as written: a mapping or a list. */
export type RawKeyValues = Record<string, string | number | boolean | null> | string[];

/** What a key without a value means: take it from the environment (dropped when unset there), or an empty string. */
export type BareKey = 'lookup' | 'empty';

/** Sets an own property, even for keys such as `__proto__`. */
export function setOwn(record: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The entries of `raw`, in order; an empty key is reported. */
export function keyValueRecord(raw: RawKeyValues | undefined, path: readonly PathSegment[], context: ResolveContext, bare: BareKey): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  const set = (key: string, value: string | undefined, at: readonly PathSegment[]): void => {
    if (key.trim() === '') {
      context.fail(at, 'expected KEY=VALUE with a non-empty KEY', 'key');
      return;
    }
    const resolved = value ?? (bare === 'lookup' ? context.lookup(key) : '');
    if (resolved !== undefined) setOwn(out, key, resolved);
  };
  if (Array.isArray(raw)) {
    raw.forEach((item, index) => {
      const eq = item.indexOf('=');
      set(eq < 0 ? item : item.slice(0, eq), eq < 0 ? undefined : item.slice(eq + 1), [...path, index]);
    });
  } else {
    for (const [key, value] of Object.entries(raw)) set(key, value === null ? undefined : String(value), [...path, key]);
  }
  return out;
}
