/**
 * Labels are the truth about what runs: every object Flotilla creates carries them, and
 * `observe()` finds a project's objects by them alone. Values never hold secrets.
 */

const PREFIX = 'dev.flotilla.';

/** Label keys Flotilla sets on containers, networks and volumes. */
export const Label = {
  project: `${PREFIX}project`,
  service: `${PREFIX}service`,
  replica: `${PREFIX}replica`,
  configHash: `${PREFIX}config-hash`,
  /** The Flotilla version that created the object. */
  version: `${PREFIX}version`,
  /** The image reference the service names (the container itself runs the image id). */
  image: `${PREFIX}image`,
  /** The Compose key of a network or volume (`default`, `pgdata`). */
  network: `${PREFIX}network`,
  volume: `${PREFIX}volume`,
  /** `proxy` on a mesh proxy container: its service label is `flotilla-mesh`, and it has no replica label. */
  mesh: `${PREFIX}mesh`,
  /** On a mesh proxy container: the services it fronts, comma-separated, in name order. */
  meshServices: `${PREFIX}mesh.services`,
} as const;

/** The service label of a mesh proxy container: it is no service's replica, and no Compose service owns it. */
export const MESH_PROXY_SERVICE = 'flotilla-mesh';

/** The services a mesh proxy container fronts, from its label. */
export function meshProxyServices(container: { labels: Record<string, string> }): string[] {
  return (container.labels[Label.meshServices] ?? '').split(',').filter(Boolean);
}

/** True for a mesh proxy container: it fronts services but is none of their replicas. */
export function isMeshProxy(container: { labels: Record<string, string> }): boolean {
  return container.labels[Label.mesh] === 'proxy';
}

/**
 * Extra labels put on everything Flotilla creates, from FLOTILLA_EXTRA_LABELS
 * (`key=value,key=value`). CI and tests use it to tag a run and clean up by that tag.
 */
export function extraLabelsFromEnv(env: Record<string, string | undefined>): Record<string, string> {
  const raw = env['FLOTILLA_EXTRA_LABELS'];
  const labels: Record<string, string> = {};
  if (!raw) return labels;
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return labels;
}
