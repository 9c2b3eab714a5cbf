/**
 * The mesh as `up` lays it out, as pure functions of the stack (and of the service's image, for
 * its EXPOSE ports): which ports a meshed service's proxy listens on and how, and the names of the
 * proxy containers and of the replicas behind them. Which services share a proxy, its config and
 * its hash are in mesh-groups.ts.
 *
 * Layout: one proxy process serves several services (Istio ambient's model: a Node process costs
 * about 40 MB before it proxies anything, so one per service would cost that per service). The
 * meshed services are put in groups, each one proxy container `<project>-flotilla-mesh-<n>`:
 * services on the same networks share a proxy unless a port clashes (mesh-groups.ts). The proxy
 * takes the network alias `S` (and the aliases the Compose file gives S) of each service S it
 * fronts, and S's replicas answer only to `S-upstream` instead, so no caller goes around it.
 * Callers change nothing; the proxy forwards to `S-upstream:<port>`, which Docker's DNS spreads
 * over the replicas, and tells services on one HTTP port apart by the Host they call.
 */
import { FlotillaError } from '../core/errors.js';
import { meshSettingsOf } from '../spec/mesh.js';
import type { MeshProtocol, ServiceSpec, Stack } from '../spec/types.js';

/** The proxy's Toxiproxy-compatible control API, inside its container; published on 127.0.0.1 at an ephemeral host port. */
export const MESH_API_PORT = 8474;

/** Ports whose usual protocol is not HTTP: proxied as plain TCP unless `x-flotilla.mesh.ports` says otherwise. */
export const TCP_PORTS: ReadonlySet<number> = new Set([5432, 3306, 6379, 27017, 9092, 5672, 11211, 2181]);

/** The container name of the project's `index`th mesh proxy (from 1); `flotilla-mesh` keeps clear of Compose's `<project>-<service>-<n>`. */
export function meshProxyName(project: string, index: number): string {
  return `${project}-flotilla-mesh-${index}`;
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

/** The ports of a meshed service, unchecked: none when it declares none and its image is not known yet. */
export function declaredMeshPorts(stack: Stack, service: ServiceSpec, imagePorts: readonly string[]): MeshPort[] {
  const settings = meshSettingsOf(stack, service);
  if (!settings) throw new FlotillaError('INTERNAL', `service ${service.name} is not meshed`);
  return meshPorts(service, settings, imagePorts);
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
  const ports = declaredMeshPorts(stack, service, imagePorts);
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

