/** `host:port` addresses as Toxiproxy writes them: `127.0.0.1:8080`, `[::1]:0`, `db:5432`, `:9000`. */
import type { AddressInfo, Server } from 'node:net';
import { badRequest, listenFailed } from './errors.js';

/** A parsed `host:port`. An empty host means every interface. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port`; `field` names the JSON field in the error. */
export function parseHostPort(value: string, field: string): HostPort {
  const colon = value.lastIndexOf(':');
  if (colon < 0) throw badRequest(`${field}: "${value}" is not host:port`);
  let host = value.slice(0, colon);
  const portText = value.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) throw badRequest(`${field}: "${value}" is not host:port (write IPv6 hosts in brackets, [::1]:8080)`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw badRequest(`${field}: "${value}" has no valid port (0-65535)`);
  }
  return { host, port: Number(portText) };
}

/** Renders a host and port back to `host:port`, bracketing IPv6 hosts. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses an upstream list, `host:port[,host:port…]` (the replicas behind one proxy); at least one. */
export function parseUpstreams(value: string, field: string): HostPort[] {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) throw badRequest(`${field}: "${value}" has an empty address in its list`);
  return parts.map((part) => parseHostPort(part, field));
}

/**
 * Binds `server` to `listen` (`host:port`, port 0 for any) and returns the address really bound.
 * A failure to bind is a MeshError (500); a listening server's later errors are per connection,
 * handled there, so they are swallowed here rather than crash the process.
 */
export async function bindServer(server: Server, listen: string): Promise<string> {
  const { host, port } = parseHostPort(listen, 'listen');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host ? { host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    throw listenFailed(listen, error);
  });
  server.on('error', () => undefined);
  const address = server.address() as AddressInfo;
  return formatHostPort(address.address, address.port);
}
