/**
 * Header rules of a forwarding proxy (RFC 9110 §7.6.1): hop-by-hop fields and every field named in
 * `Connection` stay on their hop; `X-Forwarded-For` gains the caller's address; `traceparent` is
 * set to the proxy's span by the caller of these functions. Trailer fields (RFC 9110 §6.5) cross
 * too, but for those a recipient could not act on at the end of a message.
 */
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

/**
 * Fields that never cross a proxy. `Transfer-Encoding` is Node's to set per hop; `TE` and `Trailer`
 * describe the hop too (`Trailer` is announced again, per hop, only where the hop carries trailers).
 */
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

/** Trailer fields as Node's `addTrailers` takes them: [name, value] pairs, in the order received. */
export type Trailers = ReadonlyArray<[string, string]>;

/**
 * Fields a trailer section may not carry (RFC 9110 §6.5.1): framing, routing, authentication,
 * request modifiers, response controls and content format are needed before the content, so a
 * recipient that meets them at the end of a message could only misuse them. The list is Go's
 * (`badTrailer` in x/net's httpguts, which also refuses every `If-` conditional), plus cookies and
 * the hop-by-hop fields.
 */
const NOT_TRAILERS: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'content-length', 'content-encoding', 'content-range', 'content-type', 'host', 'expect', 'max-forwards', 'range',
  'authorization', 'proxy-authorization', 'proxy-authenticate', 'www-authenticate', 'realm', 'cookie', 'set-cookie',
  'cache-control', 'pragma',
]);

/** Whether a trailer field named `name` (lower-cased) may cross: not forbidden, not named in the message's Connection. */
function passesAsTrailer(name: string, named: Set<string> | undefined): boolean {
  return !NOT_TRAILERS.has(name) && !name.startsWith('if-') && !named?.has(name);
}

/**
 * The trailer fields of a message (`rawTrailers`, its `headers` for Connection) that cross the
 * proxy. A field Node would refuse to send is dropped too: `addTrailers` throws on it, and it runs
 * in an 'end' listener, where a throw would take the process down.
 */
export function endToEndTrailers(rawTrailers: readonly string[], headers: IncomingHttpHeaders): Trailers {
  if (rawTrailers.length === 0) return [];
  const named = connectionOptions(headers);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < rawTrailers.length; i += 2) {
    const name = rawTrailers[i] as string;
    const value = rawTrailers[i + 1] as string;
    if (!passesAsTrailer(name.toLowerCase(), named)) continue;
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      continue;
    }
    out.push([name, value]);
  }
  return out;
}

/**
 * The message's `Trailer` announcement, limited to the fields that cross the proxy; undefined
 * when none is left. Set it only on a message Node sends chunked: on any other it throws.
 */
export function announcedTrailers(headers: IncomingHttpHeaders): string | undefined {
  const trailer = headers.trailer;
  if (!trailer) return undefined;
  const named = connectionOptions(headers);
  const names = trailer
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && passesAsTrailer(name.toLowerCase(), named));
  return names.length > 0 ? names.join(', ') : undefined;
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
