import { readFileSync } from 'node:fs';

/** Flotilla's own version, read once from package.json (two levels up from src/core and dist/core). */
export const FLOTILLA_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
