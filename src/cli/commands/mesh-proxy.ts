/**
 * `flotilla mesh-proxy` (hidden): a mesh proxy from the whole CLI. Reads the proxy's config from
 * FLOTILLA_MESH_CONFIG (JSON, one or several services; see src/mesh/proxy-config.ts
 * `meshProxyConfigSchema`) and serves until SIGTERM. Proxy containers do not run this: they run the
 * same proxy from its own, much smaller bundle (dist/bin/flotilla-mesh-proxy.cjs,
 * src/mesh/proxy-bin.ts; see src/deploy/mesh-image.ts).
 */
import { ExitCode } from '../../core/errors.js';
import { parseMeshProxyConfigText, serveMeshProxy } from '../../mesh/proxy-main.js';

/** `flotilla mesh-proxy`. */
export async function run(): Promise<number> {
  await serveMeshProxy(parseMeshProxyConfigText(process.env['FLOTILLA_MESH_CONFIG'], 'FLOTILLA_MESH_CONFIG'));
  return ExitCode.ok;
}
