/**
 * Errors people can act on: every error Flotilla raises on purpose is a FlotillaError with a
 * stable `code`, an optional `hint` (what to do next) and the standard `cause`.
 * The CLI maps the error's kind to an exit code; the server (later) maps codes to HTTP statuses.
 */

/** CLI exit codes, shared by every command. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  interrupted: 130,
} as const;

/** How an error should end a CLI process. */
export type ErrorKind = 'usage' | 'failed';

/** Options shared by every FlotillaError. */
export interface FlotillaErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
}

/** Base class of every error Flotilla raises on purpose. */
export class FlotillaError extends Error {
  override readonly name: string = 'FlotillaError';
  readonly code: string;
  readonly hint: string | undefined;
  /** `usage` errors (bad input, bad config) exit with 2; everything else with 1. */
  readonly kind: ErrorKind = 'failed';

  constructor(code: string, message: string, options: FlotillaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }
}

/** A position in a source file, 1-based, as editors show it. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** One problem found in a Compose file. */
export interface SpecIssue {
  /** Where it is; absent when the problem has no single place (a dependency cycle). */
  position?: SourcePosition | undefined;
  /** The key path, as users write it: `services.api.ports[1]`. */
  path: string;
  message: string;
}

/** Invalid input: a Compose file, an .env file, a flag. Carries every issue found, not just the first. */
export class SpecError extends FlotillaError {
  override readonly name = 'SpecError';
  override readonly kind = 'usage';
  readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[], options: FlotillaErrorOptions = {}) {
    super('SPEC_INVALID', formatSpecIssues(issues), options);
    this.issues = issues;
  }
}

/** A wrong command line: unknown service name, conflicting flags. */
export class UsageError extends FlotillaError {
  override readonly name = 'UsageError';
  override readonly kind = 'usage';

  constructor(message: string, options: FlotillaErrorOptions = {}) {
    super('USAGE', message, options);
  }
}

/** The runtime (Docker Engine) cannot be reached or refused an operation. */
export class RuntimeError extends FlotillaError {
  override readonly name = 'RuntimeError';
}

/** A bug in Flotilla: never raised for bad input or a failing environment. */
export class InternalError extends FlotillaError {
  override readonly name = 'InternalError';

  constructor(message: string, options: FlotillaErrorOptions = {}) {
    super('INTERNAL', message, options);
  }
}

/** Renders spec issues one per line: `compose.yaml:12:7 services.api.ports[1]: expected …`. */
export function formatSpecIssues(issues: readonly SpecIssue[]): string {
  if (issues.length === 0) return 'invalid input';
  const lines = issues.map((issue) => {
    const where = issue.position
      ? `${issue.position.file}:${issue.position.line}:${issue.position.column} `
      : '';
    const path = issue.path ? `${issue.path}: ` : '';
    return `${where}${path}${issue.message}`;
  });
  return lines.length === 1 ? (lines[0] ?? '') : `${lines.length} problems:\n  ${lines.join('\n  ')}`;
}

/** Exit code for any thrown value. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof FlotillaError) return error.kind === 'usage' ? ExitCode.usage : ExitCode.failed;
  return ExitCode.failed;
}
