/**
 * Checks between services: every dependency exists and is enabled (or is optional), a
 * `service_healthy` dependency has a healthcheck, and there is no cycle.
 */
import { findCycle } from '../dependency-order.js';
import { didYouMean } from '../suggest.js';
import type { PathSegment } from '../yaml-node.js';
import type { ServiceSpec } from '../types.js';
import type { ResolveContext } from './context.js';
import type { ServiceOutline } from './selection.js';

/** Checks and trims the dependencies of the enabled services (optional missing ones are dropped with a warning). */
export function checkDependencies(
  services: Record<string, ServiceSpec>,
  dependencyPaths: ReadonlyMap<string, Record<string, PathSegment[]>>,
  outlines: ReadonlyMap<string, ServiceOutline>,
  /** Services that failed validation: they exist, but nothing more can be said about them. */
  unreliable: ReadonlySet<string>,
  context: ResolveContext,
): void {
  for (const [name, spec] of Object.entries(services)) {
    const paths = dependencyPaths.get(name) ?? {};
    for (const [dep, dependency] of Object.entries(spec.dependsOn)) {
      const at = paths[dep] ?? ['services', name, 'depends_on'];
      const viaNetworkMode = at[at.length - 1] === 'network_mode';
      const verb = viaNetworkMode ? 'network_mode refers to' : 'depends on';
      const target = viaNetworkMode ? 'value' : 'key';
      const outline = outlines.get(dep);
      const depSpec = Object.hasOwn(services, dep) ? services[dep] : undefined;
      let problem: string | undefined;
      if (dep === name) problem = `service '${name}' depends on itself`;
      else if (outline && unreliable.has(dep)) continue;
      else if (!outline) problem = `${verb} undefined service '${dep}'${didYouMean(dep, outlines.keys())}`;
      else if (!depSpec) {
        const profiles = outline.profiles.join(', ');
        problem = `${verb} service '${dep}', which is not enabled (profiles: ${profiles}); enable one of its profiles with --profile or name it on the command line`;
      }
      if (problem !== undefined) {
        if (dependency.required || dep === name) {
          context.fail(at, problem, target);
        } else {
          context.warn(at, `${problem}; skipped because it is marked required: false`);
          delete spec.dependsOn[dep];
        }
        continue;
      }
      if (dependency.condition === 'service_healthy' && (depSpec?.healthcheck === undefined || depSpec.healthcheck.disable)) {
        const state = depSpec?.healthcheck?.disable ? 'its healthcheck is disabled' : 'it declares no healthcheck';
        context.fail(at, `condition service_healthy needs a healthcheck on service '${dep}', but ${state}`, 'key');
      }
    }
  }
  const edges: Record<string, string[]> = {};
  for (const [name, spec] of Object.entries(services)) edges[name] = Object.keys(spec.dependsOn).filter((dep) => dep !== name && Object.hasOwn(services, dep));
  const cycle = findCycle(edges);
  if (cycle) {
    const [first = '', second = ''] = cycle;
    context.fail(dependencyPaths.get(first)?.[second] ?? ['services', first], `dependency cycle: ${cycle.join(' -> ')}`, 'key');
  }
}
