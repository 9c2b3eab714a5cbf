import { ImageLabel } from '../../build/image-labels.js';
import { ExitCode } from '../../core/errors.js';
import type { ImageInfo, ObservedContainer, PublishedPort } from '../../runtime/driver.js';
import { isMeshProxy, Label, meshProxyServices } from '../../runtime/labels.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { renderTable } from '../output/table.js';

/** One row of `ps`, also its JSON form. */
interface ContainerRow {
  service: string;
  /** 0 for a mesh proxy, which fronts the services listed (comma-separated) but is none of their replicas. */
  replica: number;
  role: 'replica' | 'mesh-proxy';
  name: string;
  id: string;
  state: string;
  health: string | null;
  exitCode: number | null;
  ports: PublishedPort[];
  image: string;
  imageId: string;
  digest: string | null;
  /** From the image's OCI labels: the commit and the tag (or `git describe`) it was built from. */
  commit: string | null;
  version: string | null;
  dirty: boolean | null;
}

/** `flotilla ps [SERVICE...]`. */
export async function run(services: string[], options: { output: 'table' | 'json' }, global: GlobalOptions): Promise<number> {
  const { stack, driver } = await commandContext(global);
  const state = await driver.observe(stack.name);
  const containers = state.containers
    .filter((container) => services.length === 0 || services.includes(container.service) || meshProxyServices(container).some((service) => services.includes(service)))
    .sort((a, b) => a.service.localeCompare(b.service) || a.replica - b.replica);
  const imageIds = [...new Set(containers.map((container) => container.imageId))];
  const infos = await Promise.all(imageIds.map((id) => driver.inspectImage(id)));
  const imageOf = new Map(imageIds.map((id, index) => [id, infos[index]]));
  const rows = containers.map((container) => toRow(container, imageOf.get(container.imageId)));

  if (options.output === 'json') {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else if (rows.length === 0) {
    process.stderr.write(`No containers for project ${stack.name}.\n`);
  } else {
    process.stdout.write(
      renderTable(
        ['SERVICE', '#', 'NAME', 'STATE', 'HEALTH', 'PORTS', 'IMAGE', 'DIGEST', 'BUILT FROM'],
        rows.map((row) => [
          row.service,
          row.role === 'mesh-proxy' ? 'mesh' : String(row.replica),
          row.name,
          row.state === 'exited' ? `exited (${row.exitCode ?? '?'})` : row.state,
          row.health ?? '-',
          row.ports.map(formatPort).join(', ') || '-',
          row.image,
          shortDigest(row.digest ?? row.imageId),
          builtFrom(row),
        ]),
      ),
    );
  }
  return ExitCode.ok;
}

function toRow(container: ObservedContainer, image: ImageInfo | undefined): ContainerRow {
  const labels = image?.labels ?? {};
  const dirty = labels[ImageLabel.dirty];
  return {
    // A mesh proxy is listed under the services it fronts.
    service: isMeshProxy(container) ? meshProxyServices(container).join(',') : container.service,
    replica: container.replica,
    role: isMeshProxy(container) ? 'mesh-proxy' : 'replica',
    name: container.name,
    id: container.id,
    state: container.state,
    health: container.health ?? null,
    exitCode: container.state === 'exited' || container.state === 'dead' ? container.exitCode : null,
    ports: container.ports,
    image: container.labels[Label.image] ?? container.imageId,
    imageId: container.imageId,
    digest: image?.repoDigests[0] ?? null,
    commit: labels[ImageLabel.revision] ?? null,
    version: labels[ImageLabel.version] ?? null,
    dirty: dirty === undefined ? null : dirty === 'true',
  };
}

/** `v1.2 (3f2a9c1d0b7e)`, `dirty` marked; `-` for images not built by Flotilla from git. */
function builtFrom(row: ContainerRow): string {
  if (!row.commit) return '-';
  const commit = `${row.commit.slice(0, 12)}${row.dirty ? ', dirty' : ''}`;
  return row.version ? `${row.version} (${commit})` : commit;
}

function formatPort(port: PublishedPort): string {
  const host = port.hostIp === '' ? '0.0.0.0' : port.hostIp;
  return `${host}:${port.hostPort}->${port.containerPort}/${port.protocol}`;
}

/** `sha256:` and the first 12 hex digits, enough to tell images apart. */
function shortDigest(value: string): string {
  const at = value.lastIndexOf('sha256:');
  return at < 0 ? value : value.slice(at, at + 'sha256:'.length + 12);
}
