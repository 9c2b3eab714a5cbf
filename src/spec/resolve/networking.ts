/** Ports, expose, networks, network_mode and extra_hosts of one service. */
import { isIP } from 'node:net';
import type { PortSpec, ServiceNetwork } from '../types.js';
import type { RawService } from '../schema/service.js';
import type { PathSegment } from '../yaml-node.js';
import type { ResolveContext } from './context.js';
import { parseExpose, parsePort } from './port-syntax.js';

const NETWORK_MODE = /^(host|none|bridge|service:.+|container:.+)$/;

/** Every port of the service, short forms expanded. */
export function resolvePorts(raw: RawService, path: readonly PathSegment[], context: ResolveContext): PortSpec[] {
  const ports: PortSpec[] = [];
  raw.ports?.forEach((item, index) => {
    const parsed = parsePort(item);
    if ('error' in parsed) context.fail([...path, 'ports', index], parsed.error);
    else ports.push(...parsed.value);
  });
  return ports;
}

/** `expose:` as normalized text. */
export function resolveExpose(raw: RawService, path: readonly PathSegment[], context: ResolveContext): string[] {
  const out: string[] = [];
  raw.expose?.forEach((item, index) => {
    const parsed = parseExpose(item);
    if ('error' in parsed) context.fail([...path, 'expose', index], parsed.error);
    else if (!out.includes(parsed.value)) out.push(parsed.value);
  });
  return out;
}

/** The networks the service joins: declared ones, or `default` when none and no network_mode. */
export function resolveServiceNetworks(raw: RawService, path: readonly PathSegment[], context: ResolveContext): Record<string, ServiceNetwork> {
  const networks: Record<string, ServiceNetwork> = {};
  if (raw.network_mode !== undefined) {
    if (!NETWORK_MODE.test(raw.network_mode)) {
      context.fail([...path, 'network_mode'], `expected host, none, bridge, service:NAME or container:ID, found '${raw.network_mode}'`);
    }
    if (raw.networks !== undefined) {
      context.fail([...path, 'networks'], `'networks' cannot be used together with 'network_mode: ${raw.network_mode}'; remove one of them`, 'key');
    }
    return networks;
  }
  if (raw.networks === undefined) return { default: { aliases: [] } };
  const declared = (name: string, at: readonly PathSegment[]): boolean => name === 'default' || context.checkDeclared('networks', name, at);
  if (Array.isArray(raw.networks)) {
    raw.networks.forEach((name, index) => {
      if (declared(name, [...path, 'networks', index])) networks[name] = { aliases: [] };
    });
    return networks;
  }
  for (const [name, options] of Object.entries(raw.networks)) {
    const at = [...path, 'networks', name];
    if (!declared(name, at)) continue;
    const network: ServiceNetwork = { aliases: [...new Set(options?.aliases ?? [])] };
    if (options?.ipv4_address !== undefined) {
      if (isIP(options.ipv4_address) !== 4) context.fail([...at, 'ipv4_address'], `expected an IPv4 address, found '${options.ipv4_address}'`);
      network.ipv4Address = options.ipv4_address;
    }
    if (options?.ipv6_address !== undefined) {
      if (isIP(options.ipv6_address) !== 6) context.fail([...at, 'ipv6_address'], `expected an IPv6 address, found '${options.ipv6_address}'`);
      network.ipv6Address = options.ipv6_address;
    }
    networks[name] = network;
  }
  return networks;
}

/** `extra_hosts` as host/ip pairs: `host=ip`, `host:ip`, or a mapping; IPv6 may be in brackets. */
export function resolveExtraHosts(raw: RawService, path: readonly PathSegment[], context: ResolveContext): { host: string; ip: string }[] {
  const out: { host: string; ip: string }[] = [];
  const add = (host: string, ip: string, at: readonly PathSegment[]): void => {
    const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
    if (host === '' || (isIP(bare) === 0 && bare !== 'host-gateway')) {
      context.fail(at, `expected "HOST=IP" with an IP address or host-gateway, found '${host}=${ip}'`);
      return;
    }
    out.push({ host, ip: bare });
  };
  if (raw.extra_hosts === undefined) return out;
  if (Array.isArray(raw.extra_hosts)) {
    raw.extra_hosts.forEach((item, index) => {
      const at = [...path, 'extra_hosts', index];
      const separator = item.includes('=') ? item.indexOf('=') : item.indexOf(':');
      if (separator < 0) context.fail(at, `expected "HOST=IP", found '${item}'`);
      else add(item.slice(0, separator), item.slice(separator + 1), at);
    });
  } else {
    for (const [host, ips] of Object.entries(raw.extra_hosts)) {
      for (const ip of Array.isArray(ips) ? ips : [ips]) add(host, ip, [...path, 'extra_hosts', host]);
    }
  }
  return out;
}
