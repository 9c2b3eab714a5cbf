/**
 * Header rules of a forwarding proxy (RFC 9110 §7.6.1): hop-by-hop fields and every field named in
 * `Connection` stay on their hop; `X-Forwarded-For` gains the caller's address; `traceparent` is
 * set to the proxy's span by the caller of these functions.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Fields that never cross a proxy. `Transfer-Encoding` is Node's to set per hop; `TE` and `Trailer` describe the hop too. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);

/** Names listed in the message's Connection header(s), lower-cased. */
function connectionOptions(headers: IncomingHttpHeaders): Set<string> | undefined {
  const connection = headers.connection;
  if (!connection) return undefined;
  const names = new Set<string>();
  for (const name of connection.split(',')) {
    const trimmed = name.trim().toLowerCase();
    if (trimmed) names.add(trimmed);
  }
  return names;
}

/** The end-to-end fields of a message: every header except the hop-by-hop ones. */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionOptions(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Appends `ip` to X-Forwarded-For (one list, as the de-facto standard writes it). */
export function appendForwardedFor(headers: OutgoingHttpHeaders, ip: string): void {
  const current = headers['x-forwarded-for'];
  const previous = Array.isArray(current) ? current.join(', ') : typeof current === 'string' ? current : '';
  headers['x-forwarded-for'] = previous ? `${previous}, ${ip}` : ip;
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.3`) as plain IPv4; other addresses unchanged. */
export function plainIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
