/**
 * Which mesh proxies a name means, for `flotilla fault` and chaos experiments alike: a proxy as
 * listed, or a service for every proxy of it (`S`, and `S-<port>` when it has several ports), and of
 * those the ones that take a fault of a given type (message faults: HTTP proxies; connection faults: TCP).
 */
import { UsageError } from '../core/errors.js';
import { httpMessageToxics } from '../mesh/http/message-toxics.js';
import { didYouMean } from '../spec/suggest.js';
import type { MeshProxyJson } from './mesh-client.js';

/** A proxy of the list with its public name. */
export interface NamedProxy {
  name: string;
  proxy: MeshProxyJson;
}

/** Whether `name` is one the contract gives the proxies of `service`: `S` or `S-<port>`. */
function ownedBy(service: string, name: string): boolean {
  return name === service || (name.startsWith(`${service}-`) && /^\d+$/.test(name.slice(service.length + 1)));
}

/**
 * The proxies `target` means: a proxy name as listed, or a service (`S` or `P.S`) for every proxy
 * of it (`S`, `S-<port>`). `project` (from -p) narrows to one project.
 */
export function selectProxies(target: string, proxies: Record<string, MeshProxyJson>, project?: string): NamedProxy[] {
  const all = Object.entries(proxies).map(([name, proxy]) => ({ name, proxy }));
  const inProject = all.filter(({ proxy }) => project === undefined || proxy.project === undefined || proxy.project === project);
  const exact = inProject.filter(({ name, proxy }) => name === target || (proxy.project !== undefined && `${proxy.project}.${baseName(name, proxy)}` === target));
  if (exact.length > 0) return exact;
  const byService = inProject.filter(({ name, proxy }) => {
    const inner = baseName(name, proxy);
    if (proxy.service !== undefined) return (proxy.service === target || `${proxy.project ?? ''}.${proxy.service}` === target) && ownedBy(proxy.service, inner);
    return ownedBy(target, inner);
  });
  const projects = new Set(byService.map(({ proxy }) => proxy.project));
  if (projects.size > 1) {
    throw new UsageError(`"${target}" is meshed in several projects (${[...projects].join(', ')})`, {
      hint: `Name it ${[...projects].map((name) => `${name}.${target}`).join(' or ')}, or pass -p PROJECT.`,
    });
  }
  return byService;
}

/** The proxy's name inside its container: the public name without a `project.` prefix. */
function baseName(name: string, proxy: MeshProxyJson): string {
  return proxy.project !== undefined && name.startsWith(`${proxy.project}.`) ? name.slice(proxy.project.length + 1) : name;
}

/** The error for a name that matches no proxy, with the names there are. */
export function noSuchService(target: string, proxies: Record<string, MeshProxyJson>): UsageError {
  const names = Object.keys(proxies);
  const services = [...new Set(Object.values(proxies).map((proxy) => proxy.service).filter((service): service is string => service !== undefined))];
  return new UsageError(`no meshed service or proxy named "${target}"${didYouMean(target, [...names, ...services])}`, {
    hint: names.length > 0 ? `Proxies: ${names.join(', ')}.` : 'No proxy is running: mesh services with `x-flotilla: { mesh: true }` and run `flotilla up`.',
  });
}

/** Of `selected`, the proxies that take a fault of `type`; a UsageError when none does. */
export function proxiesTaking(type: string, selected: readonly NamedProxy[]): NamedProxy[] {
  // Each kind of proxy refuses the other kind's faults.
  const isHttpFault = type in httpMessageToxics;
  const targets = selected.filter(({ proxy }) => (proxy.kind === 'http') === isHttpFault);
  if (targets.length === 0) {
    const names = selected.map(({ name }) => name).join(', ');
    const plural = selected.length > 1;
    throw isHttpFault
      ? new UsageError(`${type} is a fault on HTTP messages, and ${names} ${plural ? 'are TCP proxies' : 'is a TCP proxy'}`, {
          hint: 'Use a connection fault (latency, bandwidth, slicer, reset_peer, timeout, limit_data) on TCP proxies.',
        })
      : new UsageError(`${type} is a connection fault, and ${names} ${plural ? 'are HTTP proxies' : 'is an HTTP proxy'}`, {
          hint: `Use a message fault (${Object.keys(httpMessageToxics).join(', ')}) on HTTP proxies.`,
        });
}
  return targets;
}
