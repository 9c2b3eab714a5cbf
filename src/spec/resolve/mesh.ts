/** A service's `x-flotilla.mesh` → ServiceMeshSettings (or `false`), with the checks zod cannot make. */
import type { RawServiceMesh } from '../schema/mesh.js';
import type { MeshProtocol, MeshResilience, ServiceMeshSettings } from '../types.js';
import type { PathSegment } from '../yaml-node.js';
import type { ResolveContext } from './context.js';

/** Undefined when not written. */
export function resolveServiceMesh(
  raw: RawServiceMesh | undefined,
  networkMode: string | undefined,
  path: readonly PathSegment[],
  context: ResolveContext,
): false | ServiceMeshSettings | undefined {
  if (raw === undefined || raw === false) return raw;
  if (networkMode !== undefined) {
    context.fail(
      [...path, 'x-flotilla', 'mesh'],
      `a service with network_mode '${networkMode}' cannot be meshed: it has no network name of its own for the proxy to take; remove mesh or network_mode`,
    );
  }
  if (raw === true) return { ports: {} };
  const ports: Record<string, MeshProtocol> = {};
  for (const key of Object.keys(raw.ports ?? {}).sort((a, b) => Number(a) - Number(b))) {
    const protocol = raw.ports?.[key];
    if (protocol) ports[String(Number(key))] = protocol;
  }
  return {
    ports,
    ...(raw.resilience && { resilience: clean(raw.resilience) as MeshResilience }),
    ...(raw.traces_per_second !== undefined && { tracesPerSecond: raw.traces_per_second }),
  };
}

/** Drops keys whose value is undefined, at every depth, so the settings hash and render the same however they were read. */
function clean(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined).map(([key, inner]) => [key, clean(inner)]));
}
