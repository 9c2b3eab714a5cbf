// How dist/bin/flotilla-mesh-proxy.cjs is built: the program a mesh proxy container runs
// (src/mesh/proxy-bin.ts), alone. Shared by scripts/build-cli.mjs and bench/mesh-proxy.mjs, so the
// benchmark measures the bundle the image ships. A proxy runs beside every meshed service, so it
// loads only the mesh, zod and node's modules; an import that drags the CLI's heavy dependencies in
// fails the build.
import { build } from 'esbuild';
import { bundleOptions } from './bundle-options.mjs';

/** Packages the proxy must never bundle. */
const HEAVY = /node_modules\/(commander|dockerode|docker-modem|fastify|better-sqlite3|@opentelemetry|yaml|tar-fs|pino)\//;

/** Bundles the mesh proxy into `outfile`; rejects when a heavy dependency got in. */
export async function buildMeshProxy(outfile) {
  const result = await build({ ...bundleOptions('src/mesh/proxy-bin.ts', outfile), metafile: true });
  const heavy = Object.keys(result.metafile.inputs).filter((input) => HEAVY.test(input));
  if (heavy.length > 0) {
    const names = [...new Set(heavy.map((input) => HEAVY.exec(input)[1]))];
    throw new Error(`${outfile} must not bundle ${names.join(', ')} (it came in through ${heavy[0]}): the mesh proxy imports only src/mesh, src/core, zod and node's modules`);
  }
  return result.metafile;
}
