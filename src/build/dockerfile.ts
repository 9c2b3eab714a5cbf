/**
 * Reads the images a Dockerfile builds on, without building it: FROM lines after the parser's
 * own rules (directives, escapes, line continuations, comments, heredocs) and the substitution of
 * global build args, stages resolved by name or index, `--target` honoured.
 */
import { FlotillaError, type FlotillaErrorOptions } from '../core/errors.js';

/** Codes of the errors raised for a Dockerfile that cannot be read for its base images. */
export const DockerfileErrorCode = {
  empty: 'DOCKERFILE_EMPTY',
  noFrom: 'DOCKERFILE_NO_FROM',
  invalid: 'DOCKERFILE_INVALID',
  targetNotFound: 'DOCKERFILE_TARGET_NOT_FOUND',
} as const;

/** A Dockerfile that is empty, has no FROM, names an unknown target or a FROM without an image. */
export class DockerfileError extends FlotillaError {
  override readonly name = 'DockerfileError';
  override readonly kind = 'usage';

  constructor(code: string, message: string, options: FlotillaErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The external images a build uses, and the one its final (or target) stage stands on. */
export interface BaseImageReferences {
  /**
   * Images named by FROM (and by `COPY --from` / `RUN --mount=…,from=`) in the stages that are
   * built, args substituted, in order of appearance, without duplicates, stages and `scratch`.
   */
  references: string[];
  /** The external image at the root of the final stage's FROM chain; undefined for `scratch`. */
  finalBase: string | undefined;
}

interface Stage {
  /** Lowercased, as the builder compares stage names. */
  name: string | undefined;
  /** Index of the stage it is built on, or the external reference. */
  base: { stage: number } | { image: string };
  /** External images copied or mounted from. */
  uses: string[];
}

/** Base images of `dockerfileText` built with `args` up to `target`; `file` names the Dockerfile in errors. */
export function baseImageReferences(
  dockerfileText: string,
  args: Record<string, string>,
  target?: string,
  file = 'Dockerfile',
): BaseImageReferences {
  const { instructions, escape } = parseInstructions(dockerfileText);
  if (instructions.length === 0) {
    throw new DockerfileError(DockerfileErrorCode.empty, `The Dockerfile ${file} is empty`, {
      hint: 'A Dockerfile starts with a FROM line; check `build.dockerfile` in the Compose file.',
    });
  }
  const fail = (line: number, message: string, hint: string): never => {
    throw new DockerfileError(DockerfileErrorCode.invalid, `${file}:${line}: ${message}`, { hint });
  };

  // Global ARGs (before the first FROM) are the only variables FROM lines can use.
  const globals = new Map<string, string>();
  const stages: Stage[] = [];
  let stageArgs = new Map<string, string>();
  for (const { keyword, rest, line } of instructions) {
    const current = stages.at(-1);
    if (keyword === 'arg') {
      const scope = current ? stageArgs : globals;
      for (const [name, fallback] of argDeclarations(rest, escape, scope)) {
        // A build arg wins; a stage's bare `ARG X` takes the global default of X.
        const value = args[name] ?? fallback ?? (current ? globals.get(name) : undefined);
        if (value !== undefined) scope.set(name, value);
      }
    } else if (keyword === 'from') {
      const words = splitWords(rest).filter((word) => !word.startsWith('--'));
      const written = words[0];
      if (written === undefined) fail(line, 'FROM names no image', 'Write `FROM <image>[:tag] [AS name]`.');
      const image = expand(written ?? '', globals, escape, () => fail(line, `FROM ${written ?? ''}: a required build arg is not set`, 'Pass it in `build.args`.'));
      if (image === '') {
        fail(line, `FROM ${written ?? ''} names no image once build args are substituted`, 'Give the ARG a default before the first FROM, or pass it in `build.args`.');
      }
      const name = words[1]?.toLowerCase() === 'as' && words[2] ? words[2].toLowerCase() : undefined;
      const base = stageIndex(stages, image);
      stages.push({ name, base: base === undefined ? { image } : { stage: base }, uses: [] });
      stageArgs = new Map();
    } else if (current && (keyword === 'copy' || keyword === 'run')) {
      for (const from of fromFlags(keyword, rest)) {
        const source = expand(from, new Map([...globals, ...stageArgs]), escape, () => from);
        if (source && stageIndex(stages, source) === undefined) current.uses.push(source);
      }
    }
  }
  if (stages.length === 0) {
    throw new DockerfileError(DockerfileErrorCode.noFrom, `The Dockerfile ${file} has no FROM instruction`, {
      hint: 'A Dockerfile starts with a FROM line (after ARGs and comments); check `build.dockerfile` in the Compose file.',
    });
  }

  let last = stages.length - 1;
  if (target !== undefined) {
    last = stages.findIndex((stage) => stage.name === target.toLowerCase());
    if (last < 0) {
      const names = stages.flatMap((stage) => (stage.name ? [stage.name] : []));
      throw new DockerfileError(DockerfileErrorCode.targetNotFound, `The Dockerfile ${file} has no stage named "${target}" (stages: ${names.join(', ') || 'none named'})`, {
        hint: 'Check `build.target` in the Compose file against the `FROM … AS <name>` lines.',
      });
    }
  }

  const references = new Set<string>();
  for (const stage of stages.slice(0, last + 1)) {
    if ('image' in stage.base) references.add(stage.base.image);
    for (const image of stage.uses) references.add(image);
  }
  for (const reference of references) if (reference.toLowerCase() === 'scratch') references.delete(reference);

  let root = stages[last];
  while (root && 'stage' in root.base) root = stages[root.base.stage];
  const finalImage = root && 'image' in root.base ? root.base.image : undefined;
  return { references: [...references], finalBase: finalImage?.toLowerCase() === 'scratch' ? undefined : finalImage };
}

/** An earlier stage that `reference` names (case-insensitively, or by index), if any. */
function stageIndex(stages: readonly Stage[], reference: string): number | undefined {
  const lower = reference.toLowerCase();
  const byName = stages.findIndex((stage) => stage.name === lower);
  if (byName >= 0) return byName;
  return /^\d+$/.test(reference) && Number(reference) < stages.length ? Number(reference) : undefined;
}

/** `--from=x` of COPY, `from=x` inside RUN's `--mount=` flags. */
function fromFlags(keyword: 'copy' | 'run', rest: string): string[] {
  const found: string[] = [];
  for (const word of splitWords(rest)) {
    if (!word.startsWith('--')) break;
    if (keyword === 'copy' && word.startsWith('--from=')) found.push(word.slice('--from='.length));
    if (keyword === 'run' && word.startsWith('--mount=')) {
      for (const option of word.slice('--mount='.length).split(',')) {
        if (option.startsWith('from=')) found.push(option.slice('from='.length));
      }
    }
  }
  return found;
}

/** `ARG A`, `ARG A=1 B="two words"`: names with their defaults, substituted with what is declared so far. */
function argDeclarations(rest: string, escape: string, known: Map<string, string>): [string, string | undefined][] {
  return splitWords(rest).map((word) => {
    const equals = word.indexOf('=');
    if (equals < 0) return [word, undefined];
    return [word.slice(0, equals), expand(word.slice(equals + 1), known, escape, () => '')];
  });
}

/** Whitespace-separated words, quotes kept (they are removed by `expand`). */
function splitWords(text: string): string[] {
  return text.match(/(?:"(?:\\.|[^"\\])*"|'[^']*'|\S)+/g) ?? [];
}

/**
 * Substitutes `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`,
 * `${VAR:?message}` and removes quotes, as the builder does for a word. `onRequired` is called
 * for a `?` form whose variable is unset.
 */
export function expand(word: string, vars: ReadonlyMap<string, string>, escape = '\\', onRequired: () => string = () => ''): string {
  let out = '';
  let i = 0;
  let quote: '"' | undefined;
  while (i < word.length) {
    const char = word[i] ?? '';
    if (char === escape && i + 1 < word.length) {
      out += word[i + 1];
      i += 2;
    } else if (char === "'" && !quote) {
      const end = word.indexOf("'", i + 1);
      out += end < 0 ? word.slice(i + 1) : word.slice(i + 1, end);
      i = end < 0 ? word.length : end + 1;
    } else if (char === '"') {
      quote = quote ? undefined : '"';
      i++;
    } else if (char === '$' && word[i + 1] === '{') {
      const end = closingBrace(word, i + 2);
      out += braced(word.slice(i + 2, end), vars, escape, onRequired);
      i = end + 1;
    } else if (char === '$' && /[A-Za-z_]/.test(word[i + 1] ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i + 1))?.[0] ?? '';
      out += vars.get(name) ?? '';
      i += 1 + name.length;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

/** The content of `${…}`: a name, optionally an operator and a word (itself substituted). */
function braced(inner: string, vars: ReadonlyMap<string, string>, escape: string, onRequired: () => string): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(:?[-+?])?([\s\S]*)$/.exec(inner);
  if (!match) return '';
  const [, name = '', operator, rest = ''] = match;
  const value = vars.get(name);
  const set = value !== undefined && (value !== '' || !operator?.startsWith(':'));
  switch (operator?.replace(':', '')) {
    case '-':
      return set ? (value ?? '') : expand(rest, vars, escape, onRequired);
    case '+':
      return set ? expand(rest, vars, escape, onRequired) : '';
    case '?':
      return set ? (value ?? '') : onRequired();
    default:
      return value ?? '';
  }
}

/** Index of the `}` that closes a `${` whose content starts at `from` (nested `${…}` allowed). */
function closingBrace(word: string, from: number): number {
  let depth = 1;
  for (let i = from; i < word.length; i++) {
    if (word[i] === '{' && word[i - 1] === '$') depth++;
    if (word[i] === '}' && --depth === 0) return i;
  }
  return word.length;
}

/** One instruction: its keyword lowercased, the rest of its logical line, and its first line number. */
interface Instruction {
  keyword: string;
  rest: string;
  line: number;
}

/** Logical instructions and the escape character, as the Dockerfile parser sees them. */
function parseInstructions(text: string): { instructions: Instruction[]; escape: string } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let index = 0;
  // Parser directives (`# syntax=…`, `# escape=…`) only count before anything else.
  for (; index < lines.length; index++) {
    const directive = /^#\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(lines[index] ?? '');
    if (!directive) break;
    if (directive[1]?.toLowerCase() === 'escape' && (directive[2] === '`' || directive[2] === '\\')) escape = directive[2];
  }

  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : escape}[ \\t]*$`);
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  for (; index < lines.length; index++) {
    const raw = lines[index] ?? '';
    const trimmed = raw.trim();
    // Comment lines and empty lines vanish, even in the middle of a continued instruction.
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const text = raw.replace(continuation, '');
    const continued = text !== raw;
    pending = pending ? { text: pending.text + text, line: pending.line } : { text: text.trimStart(), line: index + 1 };
    if (continued) continue;

    const match = /^(\S+)\s*([\s\S]*)$/.exec(pending.text);
    const keyword = (match?.[1] ?? '').toLowerCase();
    instructions.push({ keyword, rest: (match?.[2] ?? '').trim(), line: pending.line });
    pending = undefined;
    if (keyword === 'run' || keyword === 'copy' || keyword === 'add') index = skipHeredocs(lines, index, instructions.at(-1)?.rest ?? '');
  }
  if (pending) {
    const match = /^(\S+)\s*([\s\S]*)$/.exec(pending.text);
    instructions.push({ keyword: (match?.[1] ?? '').toLowerCase(), rest: (match?.[2] ?? '').trim(), line: pending.line });
  }
  return { instructions, escape };
}

/**
 * Skips the bodies of `<<EOF` / `<<-"EOF"` heredocs opened on an instruction; returns the last
 * line consumed. Like BuildKit, only a word that starts with `<<` opens one (`$((a<<b))` does not).
 */
function skipHeredocs(lines: readonly string[], index: number, rest: string): number {
  let at = index;
  for (const [, dash, , word] of rest.matchAll(/(?:^|\s)\d*<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
    for (at++; at < lines.length; at++) {
      const line = lines[at] ?? '';
      if ((dash ? line.replace(/^\t+/, '') : line) === word) break;
    }
  }
  return at;
}
