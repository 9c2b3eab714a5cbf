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
  /** `proxy` on a service's mesh proxy container: it carries the service's label but is not one of its replicas (no replica label). */
  mesh: `${PREFIX}mesh`,
} as const;

/** True for a mesh proxy container: it belongs to its service but is not a replica of it. */
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
