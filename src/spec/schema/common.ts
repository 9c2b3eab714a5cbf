/**
 * Building blocks for the raw Compose shape. Each union carries, as its error, a description of
 * what it expects ("a string or a list"); zod-issues.ts turns that into "expected …, found …".
 * Values that interpolation may have turned into strings (`replicas: ${N}`) are accepted as
 * numeric or boolean strings, as Compose does.
 */
import * as z from 'zod';
import { isDuration } from '../duration.js';
import { didYouMean } from '../suggest.js';

/** Marks a custom issue whose message is complete (not an "expected …" description). */
export const COMPLETE_MESSAGE = 'complete';
/** Marks a custom issue about a key rather than its value. */
export const ABOUT_KEY = 'key';

/** A string; a number is accepted and kept as its decimal text (`user: 1000`). */
export const str = z.union([z.string(), z.number().transform(String)], { error: 'a string' });

const INTEGER_TEXT = /^[+-]?\d+$/;

/** An integer, or a string holding one. */
export const int = z.union([z.number().int(), z.string().refine((s) => INTEGER_TEXT.test(s.trim()), 'an integer').transform((s) => Number(s.trim()))], {
  error: 'an integer',
});

/** An integer ≥ 0. */
export const count = int.pipe(z.number().min(0));

/** A number (integer or not), or a string holding one. */
export const num = z.union([z.number(), z.string().refine((s) => s.trim() !== '' && Number.isFinite(Number(s)), 'a number').transform((s) => Number(s))], {
  error: 'a number',
});

const TRUE = new Set(['true', 'yes', 'y', 'on', '1']);
const FALSE = new Set(['false', 'no', 'n', 'off', '0']);

/** A boolean, or one of the strings Compose reads as one (`true`, `yes`, `off`…). */
export const bool = z.union(
  [z.boolean(), z.string().refine((s) => TRUE.has(s.toLowerCase()) || FALSE.has(s.toLowerCase()), 'true or false').transform((s) => TRUE.has(s.toLowerCase()))],
  { error: 'true or false' },
);

/** A Go-style duration such as `10s` or `1m30s`. */
export const duration = z.custom<string>((value) => typeof value === 'string' && isDuration(value), 'a duration like 10s or 1m30s');

/** A list of strings. */
export const strList = z.array(str);

/** A string or a list of strings. */
export const strOrList = z.union([str, z.array(str)], { error: 'a string or a list of strings' });

/** A value in a KEY=VALUE mapping: strings, numbers, booleans, or empty. */
export const envValue = z.union([z.string(), z.number(), z.boolean(), z.null()], { error: 'a string, a number, true/false or an empty value' });

/** `environment`, `labels`, `args`: a mapping or a list of `KEY=VALUE` strings. */
export const keyValues = z.union([z.record(z.string(), envValue), z.array(str)], { error: 'a mapping or a list of KEY=VALUE strings' });

/** A mapping of strings (driver options, logging options). */
export const stringMap = z.record(z.string(), z.union([z.string(), z.number().transform(String), z.boolean().transform(String)], { error: 'a string' }));

/**
 * A mapping that rejects unknown keys with a suggestion. `ignored` keys are accepted (the
 * resolver warns that they have no effect); `x-` keys are accepted when `extensions` is set.
 */
export function strictObject<S extends z.ZodRawShape>(shape: S, options: { ignored?: readonly string[]; extensions?: boolean } = {}) {
  const known = Object.keys(shape);
  const allowed = new Set([...known, ...(options.ignored ?? [])]);
  return z.looseObject(shape).superRefine(
    (value, context) => {
      // Runs even when the value is not a mapping at all (see `when` below).
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
      for (const key of Object.keys(value)) {
        if (allowed.has(key) || (options.extensions === true && key.startsWith('x-'))) continue;
        context.addIssue({ code: 'custom', path: [key], message: unknownKeyMessage(key, allowed), params: { kind: COMPLETE_MESSAGE, target: ABOUT_KEY } });
      }
    },
    // Report unknown keys even when a known key has a wrong value.
    { when: () => true },
  );
}

/** `unknown key 'imgae'; did you mean 'image'?`, or the allowed keys when few and none is close. */
export function unknownKeyMessage(key: string, allowed: Iterable<string>): string {
  const keys = [...allowed];
  const suggestion = didYouMean(key, keys);
  if (suggestion) return `unknown key '${key}'${suggestion}`;
  if (keys.length === 0) return `unknown key '${key}' (no keys are defined here yet)`;
  if (keys.length <= 16) return `unknown key '${key}' (allowed: ${keys.join(', ')})`;
  return `unknown key '${key}'`;
}
