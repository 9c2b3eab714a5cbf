/**
 * The mesh as `up` lays it out, as pure functions of the stack (and of the service's image, for
 * its EXPOSE ports): which ports a meshed service's proxy listens on and how, the proxy's config,
 * its container name, and the hash that says when it must be recreated.
 *
 * Layout: for a meshed service S, the proxy container `<project>-S-mesh-1` takes the network
 * alias `S` (and the aliases the Compose file gives S) on every network S is on, and S's replicas
 * answer only to `S-upstream` instead, so no caller goes around the proxy. Callers
 * change nothing; the proxy forwards to `S-upstream:<port>`, which Docker's DNS spreads over
 * the replicas.
 */
import { createHash } from 'node:crypto';
import { FlotillaError } from '../core/errors.js';
import { stableStringify } from '../core/stable-json.js';
import { meshSettingsOf } from '../spec/mesh.js';
import type { MeshProtocol, MeshResilience, ServiceSpec, Stack } from '../spec/types.js';
import { telemetryEndpoint } from './telemetry-env.js';

/** The proxy's Toxiproxy-compatible control API, inside its container; published on 127.0.0.1 at an ephemeral host port. */
export const MESH_API_PORT = 8474;

/** Ports whose usual protocol is not HTTP: proxied as plain TCP unless `x-flotilla.mesh.ports` says otherwise. */
export const TCP_PORTS: ReadonlySet<number> = new Set([5432, 3306, 6379, 27017, 9092, 5672, 11211, 2181]);

/** The container name of a service's mesh proxy. */
export function meshProxyName(project: string, service: string): string {
  return `${project}-${service}-mesh-1`;
}

/** The network alias a meshed service's replicas answer to, behind its proxy. */
export function upstreamAlias(service: string): string {
  return `${service}-upstream`;
}

/** One port a proxy listens on. */
export interface MeshPort {
  port: number;
  protocol: MeshProtocol;
}

/**
 * The ports of a meshed service: its `ports` (container side), `expose`, the image's EXPOSE, and
 * the ports named under `x-flotilla.mesh.ports`; TCP only (UDP and SCTP are not proxied). The
 * protocol is the one written, else `tcp` for well-known non-HTTP ports, else `http`.
 */
export function meshPorts(service: ServiceSpec, settings: { ports: Record<string, MeshProtocol> }, imagePorts: readonly string[]): MeshPort[] {
  const found = new Set<number>();
  for (const port of service.ports) if (port.protocol === 'tcp') found.add(port.target);
  for (const entry of [...service.expose, ...imagePorts]) for (const port of tcpPortsOf(entry)) found.add(port);
  for (const key of Object.keys(settings.ports)) found.add(Number(key));
  return [...found]
    .sort((a, b) => a - b)
    .map((port) => ({ port, protocol: settings.ports[String(port)] ?? (TCP_PORTS.has(port) ? 'tcp' : 'http') }));
}

/** `8080`, `8080/tcp`, `8080-8082` → its TCP ports; UDP/SCTP entries → none. */
function tcpPortsOf(entry: string): number[] {
  const [range = '', protocol = 'tcp'] = entry.trim().split('/');
  if (protocol !== 'tcp') return [];
  const [start, end = start] = range.split('-').map(Number);
  if (start === undefined || end === undefined || !Number.isInteger(start) || !Number.isInteger(end) || end < start) return [];
  return Array.from({ length: Math.min(end - start + 1, 1000) }, (_, index) => start + index);
}

/** The ports of a meshed service, or a MESH_NO_PORTS / MESH_PORT_TAKEN error that says what to write. */
export function checkedMeshPorts(stack: Stack, service: ServiceSpec, imagePorts: readonly string[]): MeshPort[] {
  const settings = meshSettingsOf(stack, service);
  if (!settings) throw new FlotillaError('INTERNAL', `service ${service.name} is not meshed`);
  const ports = meshPorts(service, settings, imagePorts);
  if (ports.length === 0) {
    throw new FlotillaError('MESH_NO_PORTS', `service ${service.name} is meshed but has no TCP port for its proxy to listen on (no ports, expose, or EXPOSE in its image)`, {
      hint: `Add \`expose: ["<port>"]\` or \`x-flotilla: { mesh: { ports: { <port>: http } } }\` to ${service.name}, or take it out of the mesh with \`x-flotilla: { mesh: false }\`.`,
    });
  }
  if (ports.some((port) => port.port === MESH_API_PORT)) {
    throw new FlotillaError('MESH_PORT_TAKEN', `service ${service.name} uses port ${MESH_API_PORT}, where its mesh proxy serves its control API`, {
      hint: `Take ${service.name} out of the mesh with \`x-flotilla: { mesh: false }\`, or move it off port ${MESH_API_PORT}.`,
    });
  }
  return ports;
}

/** What the proxy container is given as FLOTILLA_MESH_CONFIG (src/mesh/proxy-main.ts `meshProxyConfigSchema`). */
export interface MeshProxyConfigJson {
  service: string;
  version: string;
  host: string;
  listeners: { port: number; kind: MeshProtocol; upstreams: string[]; name: string; resilience?: MeshResilience }[];
  api: { host: string; port: number };
  collector?: string;
  /** Traces a second the proxy starts; its default when absent. */
  tracesPerSecond?: number;
  /** The project's services: the proxy resolves `X` and `X-upstream` to know callers by their address. */
  callerServices: string[];
  /** Callers at other addresses are found by reverse lookup of `<project>-<service>-<n>`. */
  project: string;
}

/** The inputs of one proxy: all that its container is made from. */
export interface MeshProxyInputs {
  stack: Stack;
  service: ServiceSpec;
  ports: readonly MeshPort[];
  /** The service's version, from its image's labels; `unknown` when it has none. */
  version: string;
}

/** The proxy's config. Listeners are named `S` when S has one port, else `S-<port>`. */
export function meshProxyConfig({ stack, service, ports, version }: MeshProxyInputs): MeshProxyConfigJson {
  const settings = meshSettingsOf(stack, service);
  const collector = telemetryEndpoint(stack, service);
  return {
    service: service.name,
    version,
    host: '0.0.0.0',
    listeners: ports.map(({ port, protocol }) => ({
      port,
      kind: protocol,
      upstreams: [`${upstreamAlias(service.name)}:${port}`],
      name: ports.length === 1 ? service.name : `${service.name}-${port}`,
      ...(protocol === 'http' && settings?.resilience && { resilience: settings.resilience }),
    })),
    api: { host: '0.0.0.0', port: MESH_API_PORT },
    ...(collector !== undefined && { collector }),
    ...(settings?.tracesPerSecond !== undefined && { tracesPerSecond: settings.tracesPerSecond }),
    callerServices: Object.keys(stack.services).sort(),
    project: stack.name,
  };
}

/**
 * The proxy's config hash: its config (listeners, resilience, collector, the service's version),
 * the networks it joins with the service's aliases there, and the proxy image. A change to any of them recreates the proxy, and
 * only the proxy: the replicas' hash covers just whether they are meshed (their alias). The list
 * of the project's services is left out: a proxy finds callers it was not told of by reverse
 * lookup, so adding a service does not recreate every proxy.
 */
export function meshProxyHash(inputs: MeshProxyInputs, meshImageTag: string): string {
  // Each network with the aliases the proxy takes there: a new alias moves to the proxy, so it is recreated.
  const networks = Object.entries(inputs.service.networks).map(([key, attachment]) => [inputs.stack.networks[key]?.name ?? key, attachment.aliases]);
  const { callerServices: _callers, ...config } = meshProxyConfig(inputs);
  return createHash('sha256')
    .update(stableStringify({ config, networks, image: meshImageTag }))
    .digest('hex')
    .slice(0, 16);
}
