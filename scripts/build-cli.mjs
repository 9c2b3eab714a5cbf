// Bundles the CLI with esbuild into dist/bin/: flotilla-main.cjs (all of Flotilla and its
// dependencies in one CommonJS file), flotilla.cjs (the launcher that runs it with a V8 code
// cache), and flotilla-mesh-proxy.cjs (the mesh proxy alone: what a proxy container runs). Start-up
// time is most of a command that has nothing to do, and one cached file starts in a fraction of the
// time the unbundled ES modules take (bench/README.md). Type checking is `npm run typecheck`; this
// only transpiles.
import { copyFileSync, chmodSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { bundleOptions } from './lib/bundle-options.mjs';
import { buildMeshProxy } from './lib/mesh-proxy-build.mjs';

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
  ...bundleOptions('src/cli/main.ts', 'dist/bin/flotilla-main.cjs'),
  // Native addons cannot be bundled; they load from node_modules at run time.
  external: ['better-sqlite3'],
  plugins: [unusedStub],
});
// The collector's store writer runs as a worker thread (src/server/store-writer.ts) from a file of its own.
await build({ ...bundleOptions('src/server/store-writer-worker.ts', 'dist/bin/flotilla-store-writer.cjs'), external: ['better-sqlite3'] });
// The mesh proxy on its own (scripts/lib/mesh-proxy-build.mjs): one runs beside every meshed service.
await buildMeshProxy('dist/bin/flotilla-mesh-proxy.cjs');
copyFileSync('src/cli/launcher.cjs', 'dist/bin/flotilla.cjs');
chmodSync('dist/bin/flotilla.cjs', 0o755);
