/** Low-cardinality routes for telemetry: the path without its query, ids replaced by `:id`. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^\d+$/;
// Long hex strings (object ids, hashes) are ids too; short ones ("v1", "abc") are words.
const HEX_ID = /^[0-9a-f]{16,}$/i;

/** Longest route kept; past it the rest of the path is cut, so a hostile path cannot blow up a label. */
const MAX_ROUTE = 200;

/** Splits a request target into its path (no query, no fragment). */
export function pathOf(target: string): string {
  let end = target.length;
  const query = target.indexOf('?');
  if (query >= 0) end = query;
  const hash = target.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  const path = target.slice(0, end);
  // Absolute-form targets (a proxy request, "http://host/path") keep only their path.
  if (!path.startsWith('/')) {
    const scheme = path.indexOf('://');
    if (scheme < 0) return path === '' ? '/' : path;
    const slash = path.indexOf('/', scheme + 3);
    return slash < 0 ? '/' : path.slice(slash);
  }
  return path;
}

// Routes of recent paths: the mesh asks once per request, and services see few distinct paths.
// Emptied when full, so paths with ids in them cannot grow it without bound.
const ROUTE_CACHE_SIZE = 1024;
const routes = new Map<string, string>();

/** The route of a request target: `/orders/42?x=1` → `/orders/:id`; numbers, UUIDs and long hex ids become `:id`. */
export function routeOf(target: string): string {
  const path = pathOf(target);
  let route = routes.get(path);
  if (route === undefined) {
    route = computeRoute(path);
    if (routes.size >= ROUTE_CACHE_SIZE) routes.clear();
    routes.set(path, route);
  }
  return route;
}

function computeRoute(path: string): string {
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (NUMBER.test(segment) || UUID.test(segment) || HEX_ID.test(segment)) segments[i] = ':id';
  }
  const route = segments.join('/');
  return route.length > MAX_ROUTE ? route.slice(0, MAX_ROUTE) : route;
}
