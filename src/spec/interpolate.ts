/**
 * Variable interpolation as Compose does it: `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`, `${VAR+alt}`, `$$` for a literal `$`, with
 * defaults and messages that may themselves hold variables. Only values are interpolated, never keys.
 */

/** A variable's value, or undefined when it is not set at all (set-but-empty is `''`). */
export type Lookup = (name: string) => string | undefined;

/** Bad syntax or a missing required variable; the message is meant for users. */
export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
  /** The variable a `?` form required, when that is what failed. */
  readonly variable: string | undefined;

  constructor(message: string, variable?: string) {
    super(message);
    this.variable = variable;
  }
}

/** The interpolated text and the variables that were used while unset (they became empty strings). */
export interface Interpolated {
  value: string;
  unset: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Interpolates one string; throws InterpolationError. */
export function interpolate(text: string, lookup: Lookup): Interpolated {
  const unset: string[] = [];
  const value = expand(text, lookup, unset);
  return { value, unset };
}

function expand(text: string, lookup: Lookup, unset: string[]): string {
  if (!text.includes('$')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const close = findClose(text, dollar + 2);
      if (close < 0) throw new InterpolationError(`unterminated '\${' in '${text}'; use '$$' for a literal '$'`);
      out += braced(text.slice(dollar + 2, close), lookup, unset);
      i = close + 1;
    } else {
      const name = NAME.exec(text.slice(dollar + 1))?.[0];
      if (name === undefined) {
        // A `$` not followed by a name stays as it is, as in Compose.
        out += '$';
        i = dollar + 1;
      } else {
        out += valueOf(name, lookup, unset);
        i = dollar + 1 + name.length;
      }
    }
  }
  return out;
}

/** Index of the `}` closing a `${` whose body starts at `start`, skipping nested `${…}`. */
function findClose(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '$' && (text[i + 1] === '$' || text[i + 1] === '{')) {
      if (text[i + 1] === '{') depth++;
      i++;
    } else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function braced(body: string, lookup: Lookup, unset: string[]): string {
  const name = NAME.exec(body)?.[0];
  if (name === undefined) throw new InterpolationError(`invalid variable reference '\${${body}}'; use '$$' for a literal '$'`);
  const rest = body.slice(name.length);
  if (rest === '') return valueOf(name, lookup, unset);
  const value = lookup(name);
  const colon = rest.startsWith(':');
  const operator = rest.charAt(colon ? 1 : 0);
  const argument = rest.slice(colon ? 2 : 1);
  // With a colon, an empty value counts as unset.
  const missing = value === undefined || (colon && value === '');
  switch (operator) {
    case '-':
      return missing ? expand(argument, lookup, unset) : (value ?? '');
    case '?':
      if (missing) {
        const detail = expand(argument, lookup, unset);
        throw new InterpolationError(`required variable '${name}' is missing a value${detail ? `: ${detail}` : ''}`, name);
      }
      return value ?? '';
    case '+':
      return missing ? '' : expand(argument, lookup, unset);
    default:
      throw new InterpolationError(`invalid variable reference '\${${body}}'; supported forms are \${VAR}, \${VAR:-default}, \${VAR-default}, \${VAR:?error}, \${VAR?error}, \${VAR:+alt}, \${VAR+alt}`);
  }
}

function valueOf(name: string, lookup: Lookup, unset: string[]): string {
  const value = lookup(name);
  if (value !== undefined) return value;
  if (!unset.includes(name)) unset.push(name);
  return '';
}
