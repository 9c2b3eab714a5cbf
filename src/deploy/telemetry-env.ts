/**
 * What `up` adds to a container so the service's OpenTelemetry SDK reports to the collector:
 * the standard OTEL_* variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/)
 * and, for Flotilla's own collector, the host name containers reach it by. Pure: the image's
 * labels come in as input. A variable the Compose file sets for the service is never touched.
 */
import { ImageLabel, repositoryOf } from '../build/image-labels.js';
import type { ImageInfo } from '../runtime/driver.js';
import type { ServiceSpec, Stack } from '../spec/types.js';

/** The host name containers reach the Docker host by: `host-gateway` maps it to the bridge gateway, where `flotilla serve` listens. */
export const COLLECTOR_HOST = 'host.docker.internal';

/** Flotilla's collector (`flotilla serve`, OTLP/HTTP on the standard port) as a container reaches it. */
export const DEFAULT_COLLECTOR_ENDPOINT = `http://${COLLECTOR_HOST}:4318`;

/**
 * `deployment.environment.name`: FLOTILLA_ENVIRONMENT from the project environment (shell or
 * .env), else `development` — the agent names the environment of the logs it ships the same way.
 */
export function deploymentEnvironment(stack: Stack): string {
  return stack.environment['FLOTILLA_ENVIRONMENT'] || 'development';
}

/** What a container gets on top of its service's own settings. */
export interface TelemetryInjection {
  /** Only variables the service does not set itself. */
  environment: Record<string, string>;
  /** `host.docker.internal:host-gateway`, when the endpoint needs it and the service does not map that name. */
  extraHosts: { host: string; ip: string }[];
}

/** What the injection needs to know of the container. */
export interface TelemetryTarget {
  stack: Stack;
  service: ServiceSpec;
  /** The container's name: its service instance. */
  containerName: string;
  image: ImageInfo;
}

/**
 * The OTLP endpoint the service is pointed at, or undefined when telemetry is off for it
 * (`x-flotilla.telemetry: false` at the top level, unless the service says `true`, or on the
 * service). Image-independent: the config hash covers it.
 */
export function telemetryEndpoint(stack: Stack, service: ServiceSpec): string | undefined {
  const settings = stack.flotilla.telemetry ?? { enabled: true };
  if (!(service.flotilla.telemetry ?? settings.enabled)) return undefined;
  return settings.endpoint ?? DEFAULT_COLLECTOR_ENDPOINT;
}

/** The OTEL_* variables and extra host for one container; empty when telemetry is off for its service. */
export function telemetryInjection(target: TelemetryTarget): TelemetryInjection {
  const { stack, service } = target;
  const endpoint = telemetryEndpoint(stack, service);
  if (endpoint === undefined) return { environment: {}, extraHosts: [] };
  const wanted: Record<string, string> = {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    // The collector speaks OTLP over HTTP only; some SDKs (older Java agents) default to gRPC.
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: service.name,
    OTEL_RESOURCE_ATTRIBUTES: resourceAttributes(resourceOf(target)),
  };
  const environment = Object.fromEntries(Object.entries(wanted).filter(([name]) => !Object.hasOwn(service.environment, name)));
  return { environment, extraHosts: needsCollectorHost(service, environment, endpoint) ? [{ host: COLLECTOR_HOST, ip: 'host-gateway' }] : [] };
}

/**
 * Resource attributes (semantic conventions) that tie the service's telemetry to the chain of
 * custody: the project, the container, the image and the commit it was built from.
 */
function resourceOf({ stack, containerName, image, service }: TelemetryTarget): [string, string][] {
  const label = (key: string): string | undefined => (image.labels[key] ? image.labels[key] : undefined);
  const manifestDigest = image.repoDigests[0]?.split('@')[1];
  const attributes: [string, string | undefined][] = [
    ['service.namespace', stack.name],
    ['service.instance.id', containerName],
    ['service.version', label(ImageLabel.version)],
    ['deployment.environment.name', deploymentEnvironment(stack)],
    ['vcs.ref.head.revision', label(ImageLabel.revision)],
    ['vcs.repository.url.full', label(ImageLabel.source)],
    ['container.name', containerName],
    ['container.image.name', repositoryOf(service.image)],
    ['container.image.id', image.id],
    ['oci.manifest.digest', manifestDigest],
  ];
  return attributes.filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '');
}

/**
 * `key=value,key=value`, values percent-encoded where the W3C Baggage octet range the variable's
 * format follows does not allow them (and `=`, which some SDKs split on).
 */
export function resourceAttributes(entries: [string, string][]): string {
  return entries.map(([key, value]) => `${key}=${value.replace(/[^\x21\x23\x24\x26-\x2B\x2D-\x3A\x3C\x3E-\x5B\x5D-\x7E]/gu, (c) => encodeURIComponent(c))}`).join(',');
}

/**
 * The collector's host name needs mapping when the endpoint is injected and names it, unless
 * the service maps it already or shares another container's network namespace (where the Engine
 * refuses extra hosts, and the other container's /etc/hosts applies).
 */
function needsCollectorHost(service: ServiceSpec, environment: Record<string, string>, endpoint: string): boolean {
  if (environment['OTEL_EXPORTER_OTLP_ENDPOINT'] === undefined) return false;
  if (new URL(endpoint).hostname !== COLLECTOR_HOST) return false;
  if (service.networkMode !== undefined && /^(service|container):/.test(service.networkMode)) return false;
  return !service.extraHosts.some((entry) => entry.host === COLLECTOR_HOST);
}
