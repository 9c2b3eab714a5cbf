/**
 * The last guard before a provenance statement is written: the build records its args with the
 * secret-looking ones already replaced by REDACTED (build/statement.ts), and the store refuses anything else, since a
 * secret written to the state database would sit in a plain file for good.
 */
import { REDACTED } from '../build/statement.js';
import type { InTotoStatement } from '../build/types.js';
import { InternalError } from '../core/errors.js';

/** Names of build args whose values must never be recorded. */
export const SECRET_NAME = /pass|secret|token|key|credential/i;

/** Throws an InternalError naming the arg (never its value) when a secret-looking build arg is not redacted. */
export function assertRedacted(statement: InTotoStatement): void {
  const leaked = unredactedArgs(statement.predicate.buildDefinition.externalParameters);
  if (leaked.length > 0) {
    throw new InternalError(`refusing to record a build whose statement holds unredacted secret-looking build args: ${leaked.join(', ')}`, {
      hint: `Build args named like a secret must be recorded as "${REDACTED}".`,
    });
  }
}

/** Paths of secret-looking entries of every `args` (or `buildArgs`) under `parameters`, at any depth. */
function unredactedArgs(parameters: unknown, path = 'externalParameters'): string[] {
  if (parameters === null || typeof parameters !== 'object') return [];
  const leaked: string[] = [];
  for (const [key, value] of Object.entries(parameters)) {
    const here = `${path}.${key}`;
    if (/^(build)?args$/i.test(key)) leaked.push(...secretEntries(value).map((name) => `${here}.${name}`));
    leaked.push(...unredactedArgs(value, here));
  }
  return leaked;
}

/** Secret-looking names with a value other than REDACTED, in a `{ NAME: value }` map or a `[{ name, value }]` list. */
function secretEntries(args: unknown): string[] {
  const entries: [unknown, unknown][] = Array.isArray(args)
    ? args.map((item: unknown) => (item !== null && typeof item === 'object' ? [(item as { name?: unknown }).name, (item as { value?: unknown }).value] : [undefined, undefined]))
    : args !== null && typeof args === 'object'
      ? Object.entries(args)
      : [];
  return entries.filter(([name, value]) => typeof name === 'string' && SECRET_NAME.test(name) && value !== REDACTED).map(([name]) => String(name));
}
