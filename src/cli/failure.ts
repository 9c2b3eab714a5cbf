import { inspect } from 'node:util';
import pc from 'picocolors';
import { ExitCode, FlotillaError, InternalError, exitCodeOf } from '../core/errors.js';

/** Prints an error for a person (message, then hint) on stderr and returns the exit code. */
export function handleFailure(error: unknown): number {
  if (error instanceof FlotillaError && error.code === 'INTERRUPTED') {
    process.stderr.write('interrupted\n');
    return ExitCode.interrupted;
  }
  if (error instanceof FlotillaError && !(error instanceof InternalError)) {
    process.stderr.write(`${pc.red('error')} ${error.message}\n`);
    if (error.hint) process.stderr.write(`${pc.dim('hint')}  ${error.hint}\n`);
    if (process.env['FLOTILLA_DEBUG'] && error.cause !== undefined) process.stderr.write(`${inspect(error.cause)}\n`);
    return exitCodeOf(error);
  }
  // Anything else is a bug: show the stack so it can be reported.
  process.stderr.write(`${pc.red('internal error')} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.stderr.write('This is a bug in Flotilla; please report it with the command you ran.\n');
  return ExitCode.failed;
}
