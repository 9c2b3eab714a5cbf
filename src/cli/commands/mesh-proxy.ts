/**
 * `flotilla mesh-proxy` (hidden): what a mesh proxy container runs. Reads the proxy's config from
 * FLOTILLA_MESH_CONFIG (JSON, see src/mesh/proxy-main.ts `meshProxyConfigSchema`) and serves until
 * SIGTERM. Loads nothing outside the bundle (no SQLite), so the proxy image is the bundle on Node.
 */
import { ExitCode } from '../../core/errors.js';
import { parseMeshProxyConfigText, serveMeshProxy } from '../../mesh/proxy-main.js';

/** `flotilla mesh-proxy`. */
export async function run(): Promise<number> {
  await serveMeshProxy(parseMeshProxyConfigText(process.env['FLOTILLA_MESH_CONFIG'], 'FLOTILLA_MESH_CONFIG'));
  return ExitCode.ok;
}
