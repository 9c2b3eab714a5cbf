import { readFileSync } from 'node:fs';

// The bundled CLI has the version written in at build time (scripts/build-cli.mjs); unbundled
// code (tests) reads it from package.json, two levels up from src/core.
declare const __FLOTILLA_VERSION__: string | undefined;

/** Flotilla's own version. */
export const FLOTILLA_VERSION: string =
  typeof __FLOTILLA_VERSION__ === 'string'
    ? __FLOTILLA_VERSION__
    : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
