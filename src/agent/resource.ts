/**
 * The resource a container's records are sent under: which service, container, image and
 * commit they come from. Names follow the OpenTelemetry semantic conventions, the same keys
 * `flotilla up` gives the services' own SDKs (deploy/telemetry-env.ts), so a service's logs from
 * the agent and from its SDK meet under one resource shape.
 */
import { hostname } from 'node:os';
import { memoize } from '../core/concurrency.js';
import type { Driver, ImageInfo, ObservedContainer } from '../runtime/driver.js';
import { Label } from '../runtime/labels.js';
import type { AttributeMap, AttributeValue } from './otlp-encode.js';

/** The container label that names its deployment environment. */
export const ENVIRONMENT_LABEL = 'dev.flotilla.environment';
/** OCI image labels: the commit an image was built from, its repository, its version. */
export const REVISION_LABEL = 'org.opencontainers.image.revision';
export const SOURCE_LABEL = 'org.opencontainers.image.source';
export const VERSION_LABEL = 'org.opencontainers.image.version';
/** The environment used when neither the container nor FLOTILLA_ENVIRONMENT names one. */
export const DEFAULT_ENVIRONMENT = 'development';

/** Resource attribute keys the agent sets. */
export const ResourceKey = {
  serviceName: 'service.name',
  serviceNamespace: 'service.namespace',
  serviceInstance: 'service.instance.id',
  serviceVersion: 'service.version',
  containerId: 'container.id',
  containerName: 'container.name',
  imageId: 'container.image.id',
  imageName: 'container.image.name',
  imageRepoDigests: 'container.image.repo_digests',
  revision: 'vcs.ref.head.revision',
  repository: 'vcs.repository.url.full',
  environment: 'deployment.environment.name',
  hostName: 'host.name',
} as const;

/** Builds resources, inspecting each image once however many containers run it. */
export function createResourceResolver(driver: Driver, env: Record<string, string | undefined>): (container: ObservedContainer) => Promise<AttributeMap> {
  const image = memoize(async (id: string): Promise<ImageInfo | undefined> => driver.inspectImage(id).catch(() => undefined));
  const host = hostname();
  return async (container) => resourceOf(container, await image(container.imageId), { host, environment: env['FLOTILLA_ENVIRONMENT'] });
}

/** The resource attributes of `container`, running `image` (undefined when the image is gone). */
export function resourceOf(container: ObservedContainer, image: ImageInfo | undefined, context: { host: string; environment?: string | undefined }): AttributeMap {
  const attributes: Record<string, AttributeValue> = {
    [ResourceKey.serviceName]: container.labels[Label.service] || container.name,
    [ResourceKey.serviceNamespace]: container.labels[Label.project] ?? '',
    [ResourceKey.serviceInstance]: container.name,
    [ResourceKey.containerId]: container.id,
    [ResourceKey.containerName]: container.name,
    [ResourceKey.imageId]: container.imageId,
  };
  const imageName = container.labels[Label.image];
  if (imageName) attributes[ResourceKey.imageName] = imageName;
  if (image && image.repoDigests.length > 0) attributes[ResourceKey.imageRepoDigests] = [...image.repoDigests];
  const fromImage: [string, string][] = [
    [ResourceKey.serviceVersion, VERSION_LABEL],
    [ResourceKey.revision, REVISION_LABEL],
    [ResourceKey.repository, SOURCE_LABEL],
  ];
  for (const [key, label] of fromImage) {
    const value = image?.labels[label];
    if (value) attributes[key] = value;
  }
  attributes[ResourceKey.environment] = container.labels[ENVIRONMENT_LABEL] || context.environment || DEFAULT_ENVIRONMENT;
  attributes[ResourceKey.hostName] = context.host;
  return attributes;
}
