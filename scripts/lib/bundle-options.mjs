// The esbuild options every Flotilla bundle shares: one CommonJS file for Node 20, minified, with
// a linked source map and the version compiled in.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Options for a bundle of `entryPoint` (relative to the repository) into `outfile`. */
export function bundleOptions(entryPoint, outfile) {
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  return {
    absWorkingDir: repo,
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
    define: { __FLOTILLA_VERSION__: JSON.stringify(version) },
    // version.ts reads package.json through import.meta only when the version was not defined above.
    logOverride: { 'empty-import-meta': 'silent' },
  };
}
