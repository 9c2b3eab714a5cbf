/**
 * `.env` and `env_file` parsing: `KEY=VALUE` lines, `export ` prefix, `#` comments, single quotes
 * (literal), double quotes (escapes, may span lines), unquoted values with ` #` comments, empty
 * values, and interpolation of `${VAR}` in unquoted and double-quoted values.
 */
import type { SourcePosition } from '../core/errors.js';
import { interpolate, InterpolationError, type Lookup } from './interpolate.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"', $: '$', "'": "'" };

/** A problem in an env file, at a 1-based line and column. */
export interface DotEnvProblem {
  position: SourcePosition;
  message: string;
}

/** Variables in file order; a bare `KEY` line maps to undefined (take it from the environment). */
export interface DotEnvResult {
  values: Map<string, string | undefined>;
  problems: DotEnvProblem[];
}

/**
 * Parses env-file text. `lookup` resolves variables referenced in values that are not defined
 * earlier in the same file.
 */
export function parseDotEnv(text: string, file: string, lookup: Lookup): DotEnvResult {
  const values = new Map<string, string | undefined>();
  const problems: DotEnvProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const local: Lookup = (name) => (values.has(name) ? values.get(name) : lookup(name));
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const raw = lines[index] ?? '';
    const trimmed = raw.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const indent = raw.length - trimmed.length;
    const body = trimmed.startsWith('export ') ? trimmed.slice(7).trimStart() : trimmed;
    const keyColumn = indent + (trimmed.length - body.length) + 1;
    const at = (column: number): SourcePosition => ({ file, line: lineNo, column });
    const eq = body.indexOf('=');
    const key = (eq < 0 ? body : body.slice(0, eq)).trim();
    if (!KEY.test(key)) {
      problems.push({ position: at(keyColumn), message: `expected KEY=VALUE with KEY made of letters, digits and _, found '${body.trim()}'` });
      continue;
    }
    if (eq < 0) {
      values.set(key, undefined);
      continue;
    }
    let rest = body.slice(eq + 1);
    const valueColumn = keyColumn + eq + 1 + (rest.length - rest.trimStart().length);
    rest = rest.trimStart();
    const quote = rest.charAt(0);
    if (quote === "'" || quote === '"') {
      // A quoted value may continue on the following lines.
      let buffer = rest.slice(1);
      let end = findQuote(buffer, quote);
      while (end < 0 && index + 1 < lines.length) {
        index++;
        buffer += `\n${lines[index] ?? ''}`;
        end = findQuote(buffer, quote);
      }
      if (end < 0) {
        problems.push({ position: at(valueColumn), message: `missing closing ${quote} for the value of ${key}` });
        continue;
      }
      const inner = buffer.slice(0, end);
      const after = buffer.slice(end + 1).trim();
      if (after !== '' && !after.startsWith('#')) {
        problems.push({ position: at(valueColumn), message: `unexpected text after the closing quote of ${key}: '${after}'` });
        continue;
      }
      if (quote === "'") {
        values.set(key, inner);
        continue;
      }
      const unescaped = inner.replace(/\\(.)/g, (whole, c: string) => (c === '$' ? '$$' : (ESCAPES[c] ?? whole)));
      setInterpolated(values, key, unescaped, local, problems, at(valueColumn));
      continue;
    }
    const comment = rest.search(/\s#/);
    const unquoted = (comment < 0 ? rest : rest.slice(0, comment)).trimEnd();
    setInterpolated(values, key, unquoted, local, problems, at(valueColumn));
  }
  return { values, problems };
}

function setInterpolated(values: Map<string, string | undefined>, key: string, text: string, lookup: Lookup, problems: DotEnvProblem[], position: SourcePosition): void {
  try {
    values.set(key, interpolate(text, lookup).value);
  } catch (error) {
    if (!(error instanceof InterpolationError)) throw error;
    problems.push({ position, message: error.message });
  }
}

function findQuote(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === '"' && c === '\\') i++;
    else if (c === quote) return i;
  }
  return -1;
}
