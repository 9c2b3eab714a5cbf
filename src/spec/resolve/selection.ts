/**
 * Which services a command works on: those without profiles, those with an active profile (`*`
 * activates all), and those named on the command line together with everything they depend on.
 * Read straight from the model so it works even where a service failed validation.
 */
import { scalarText, type YMap } from '../yaml-node.js';

/** What selection needs to know of each service. */
export interface ServiceOutline {
  profiles: string[];
  dependencies: string[];
}

/** Profiles and dependencies of every service in the model. */
export function outlineServices(model: YMap): Map<string, ServiceOutline> {
  const out = new Map<string, ServiceOutline>();
  const services = model.entries.get('services')?.value;
  if (services?.kind !== 'map') return out;
  for (const [name, entry] of services.entries) {
    const service = entry.value;
    const profiles: string[] = [];
    const dependencies: string[] = [];
    if (service.kind === 'map') {
      const profilesNode = service.entries.get('profiles')?.value;
      if (profilesNode?.kind === 'seq') for (const item of profilesNode.items) pushText(profiles, scalarText(item));
      const deps = service.entries.get('depends_on')?.value;
      if (deps?.kind === 'seq') for (const item of deps.items) pushText(dependencies, scalarText(item));
      if (deps?.kind === 'map') dependencies.push(...deps.entries.keys());
      const mode = scalarText(service.entries.get('network_mode')?.value);
      if (mode?.startsWith('service:')) dependencies.push(mode.slice('service:'.length));
    }
    out.set(name, { profiles, dependencies });
  }
  return out;
}

function pushText(list: string[], text: string | undefined): void {
  if (text !== undefined) list.push(text);
}

/** The enabled service names. */
export function selectServices(outlines: ReadonlyMap<string, ServiceOutline>, activeProfiles: readonly string[], named: readonly string[]): Set<string> {
  const all = activeProfiles.includes('*');
  const enabled = new Set<string>();
  for (const [name, outline] of outlines) {
    if (outline.profiles.length === 0 || all || outline.profiles.some((profile) => activeProfiles.includes(profile))) enabled.add(name);
  }
  const pending = named.filter((name) => outlines.has(name));
  const visited = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (visited.has(name)) continue;
    visited.add(name);
    enabled.add(name);
    for (const dependency of outlines.get(name)?.dependencies ?? []) if (outlines.has(dependency)) pending.push(dependency);
  }
  return enabled;
}
