// Bundles the CLI with esbuild into dist/bin/: flotilla-main.cjs (all of Flotilla and its
// dependencies in one CommonJS file), flotilla.cjs (the launcher that runs it with a V8 code
// cache), and flotilla-mesh-proxy.cjs (the mesh proxy alone: what a proxy container runs). Start-up
// time is most of a command that has nothing to do, and one cached file starts in a fraction of the
// time the unbundled ES modules take (bench/README.md). Type checking is `npm run typecheck`; this
// only transpiles.
import { copyFileSync, chmodSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { buildMeshProxy } from './lib/mesh-proxy-build.mjs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

// Modules that dockerode and docker-modem load at start-up for features Flotilla does not use:
// BuildKit sessions over gRPC and Docker over SSH (the driver refuses ssh:// hosts). Replaced by a
// stub that fails loudly if it is ever called, they cost nothing to load.
const UNUSED = /^(ssh2|cpu-features|protobufjs|@grpc\/grpc-js|@grpc\/proto-loader)$/;
const unusedStub = {
  name: 'unused-modules',
  setup(bundler) {
    bundler.onResolve({ filter: UNUSED }, (args) => ({ path: args.path, namespace: 'unused' }));
    bundler.onLoad({ filter: /.*/, namespace: 'unused' }, (args) => ({
      loader: 'js',
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not part of the Flotilla build`)}); };
const stub = new Proxy(function () {}, { get: (_, key) => (key === '__esModule' ? false : stub), apply: fail, construct: fail });
module.exports = stub;`,
    }));
  },
};

rmSync('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/bin/flotilla-main.cjs',
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
  // Native addons cannot be bundled; they load from node_modules at run time.
  external: ['better-sqlite3'],
  plugins: [unusedStub],
});
// The collector's store writer runs as a worker thread (src/server/store-writer.ts) from a file of its own.
await build({
  entryPoints: ['src/server/store-writer-worker.ts'],
  outfile: 'dist/bin/flotilla-store-writer.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  external: ['better-sqlite3'],
});
// The mesh proxy on its own (scripts/lib/mesh-proxy-build.mjs): one runs beside every meshed service.
await buildMeshProxy('dist/bin/flotilla-mesh-proxy.cjs');
copyFileSync('src/cli/launcher.cjs', 'dist/bin/flotilla.cjs');
chmodSync('dist/bin/flotilla.cjs', 0o755);
