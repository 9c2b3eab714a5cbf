/**
 * `flotilla mesh api`: the mesh control plane alone (what `flotilla serve` also runs), for a machine
 * that wants fault control without the collector. Runs until SIGINT/SIGTERM.
 */
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';

interface MeshApiOptions {
  /** 8474 unless given. */
  port?: number;
  output?: 'text' | 'json';
}

export async function run(options: MeshApiOptions): Promise<number> {
  const [{ startControlPlane }, { driverDiscovery }, { createDockerDriver }, { TOXIPROXY_DEFAULT_PORT }] = await Promise.all([
    import('../../mesh/control-plane.js'),
    import('../../mesh/control-plane-discovery.js'),
    import('../../runtime/docker/index.js'),
    import('../../mesh/toxiproxy-api.js'),
  ]);
  const json = options.output === 'json';
  const say = (event: string, text: string, fields: Record<string, unknown> = {}): void => {
    if (json) process.stdout.write(`${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n`);
    else process.stderr.write(`${text}\n`);
  };
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const driver = createDockerDriver({ env: process.env });
  // Fail now, with the Engine's own hint, rather than on the first request.
  await driver.ping();
  const mesh = await startControlPlane({
    port: options.port ?? TOXIPROXY_DEFAULT_PORT,
    discovery: driverDiscovery(driver),
    onInternalError: (error) => say('error', `${pc.red('error')} ${(error as Error).stack ?? String(error)}`, { message: (error as Error).message }),
  });
  say('listening', `Mesh API (Toxiproxy-compatible) on ${mesh.url}, over the mesh proxies of ${driver.endpoint}`, { url: mesh.url });
  await stopped;
  await mesh.close();
  say('stopped', 'Stopped');
  return ExitCode.ok;
}
