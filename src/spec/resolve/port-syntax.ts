/**
 * Ports: the short syntax `[[HOST_IP:]HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL]` (IPv6 hosts
 * in brackets) and the long syntax, both to PortSpec. A container range becomes one PortSpec per
 * port; a host range facing one container port stays a range (Docker picks a free port in it).
 */
import { isIP } from 'node:net';
import type { PortSpec } from '../types.js';
import type { RawPort } from '../schema/ports.js';

const SHORT_FORM = 'expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], like "8080:80" or "127.0.0.1:8080:80/udp"';
const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

type Result<T> = { value: T } | { error: string };

interface Range {
  start: number;
  end: number;
}

/** PortSpecs for one `ports:` item. */
export function parsePort(raw: RawPort): Result<PortSpec[]> {
  if (typeof raw === 'number') {
    const target = checkPort(raw, `port ${raw}`);
    return 'error' in target ? target : { value: [{ target: target.value, protocol: 'tcp', mode: 'ingress' }] };
  }
  if (typeof raw === 'string') return parseShort(raw);
  const target = checkPort(raw.target, `target ${raw.target}`);
  if ('error' in target) return target;
  const port: PortSpec = { target: target.value, protocol: raw.protocol ?? 'tcp', mode: raw.mode ?? 'ingress' };
  if (raw.published !== undefined && raw.published !== '') {
    const published = parseRange(String(raw.published), 'published port', 0);
    if ('error' in published) return published;
    port.published = formatRange(published.value);
  }
  if (raw.host_ip !== undefined && raw.host_ip !== '') {
    if (isIP(raw.host_ip) === 0) return { error: `host_ip '${raw.host_ip}' is not an IP address` };
    port.hostIp = raw.host_ip;
  }
  return { value: [port] };
}

function parseShort(text: string): Result<PortSpec[]> {
  const quoted = `'${text}'`;
  let rest = text.trim();
  let protocol = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!PROTOCOLS.has(protocol)) return { error: `invalid port ${quoted}: unknown protocol '${protocol}'; expected tcp, udp or sctp` };
  }
  let hostIp: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest.charAt(close + 1) !== ':') return { error: `invalid port ${quoted}: ${SHORT_FORM}` };
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
    if (isIP(hostIp) !== 6) return { error: `invalid port ${quoted}: '${hostIp}' is not an IPv6 address` };
  }
  const parts = rest.split(':');
  if (parts.length > (hostIp === undefined ? 3 : 2) || parts.some((part, i) => part === '' && i === parts.length - 1)) {
    return { error: `invalid port ${quoted}: ${SHORT_FORM}` };
  }
  const containerText = parts.pop() ?? '';
  const hostText = parts.pop();
  if (parts.length === 1) {
    hostIp = parts[0] ?? '';
    if (isIP(hostIp) === 0) return { error: `invalid port ${quoted}: '${hostIp}' is not an IP address; ${SHORT_FORM}` };
  }
  const container = parseRange(containerText, 'container port', 1);
  if ('error' in container) return { error: `invalid port ${quoted}: ${container.error}` };
  let host: Range | undefined;
  if (hostText !== undefined && hostText !== '') {
    const parsed = parseRange(hostText, 'host port', 0);
    if ('error' in parsed) return { error: `invalid port ${quoted}: ${parsed.error}` };
    host = parsed.value;
  }
  const size = container.value.end - container.value.start + 1;
  if (host && size > 1 && host.end - host.start + 1 !== size) {
    const hostSize = host.end - host.start + 1;
    return { error: `invalid port ${quoted}: ${hostSize} host port${hostSize === 1 ? '' : 's'} for ${size} container ports; the two ranges must be the same length` };
  }
  const ports: PortSpec[] = [];
  for (let offset = 0; offset < size; offset++) {
    const port: PortSpec = { target: container.value.start + offset, protocol: protocol as PortSpec['protocol'], mode: 'ingress' };
    if (host) port.published = size > 1 ? String(host.start + offset) : formatRange(host);
    if (hostIp !== undefined) port.hostIp = hostIp;
    ports.push(port);
  }
  return { value: ports };
}

function parseRange(text: string, what: string, min: number): Result<Range> {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!match) return { error: `${what} '${text}' is not a number or a range like 8000-8010` };
  const start = checkPort(Number(match[1]), `${what} ${match[1] ?? ''}`, min);
  if ('error' in start) return start;
  const end = match[2] === undefined ? start : checkPort(Number(match[2]), `${what} ${match[2]}`, min);
  if ('error' in end) return end;
  if (end.value < start.value) return { error: `${what} range '${text}' ends before it starts` };
  return { value: { start: start.value, end: end.value } };
}

function checkPort(port: number, what: string, min = 1): Result<number> {
  if (!Number.isInteger(port) || port < min || port > 65535) return { error: `${what} is out of range; expected ${min}-65535` };
  return { value: port };
}

function formatRange(range: Range): string {
  return range.start === range.end ? String(range.start) : `${range.start}-${range.end}`;
}

/** `expose:` entries: a port or range with an optional protocol, normalized to text (`3000`, `8000-8010/udp`). */
export function parseExpose(raw: string | number): Result<string> {
  const text = String(raw).trim();
  const [ports = '', protocol, extra] = text.split('/');
  if (extra !== undefined || (protocol !== undefined && !PROTOCOLS.has(protocol))) return { error: `invalid exposed port '${text}': expected PORT[-END][/tcp|udp|sctp]` };
  const range = parseRange(ports, 'exposed port', 1);
  if ('error' in range) return range;
  return { value: `${formatRange(range.value)}${protocol === undefined ? '' : `/${protocol}`}` };
}
