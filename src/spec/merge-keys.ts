/**
 * Identity keys for the sequences Compose merges by something other than position: ports by
 * {ip, published, target, protocol}, volumes/secrets/configs by target, env_file by path.
 * Unparseable items get no key and are simply appended (validation reports them later).
 */
import { child, scalarText, type YNode } from './yaml-node.js';

/** Computes the identity of one sequence item. */
export type ItemKey = (item: YNode) => string | undefined;

/** Port identity: `ip/published/target/protocol`, from either syntax. */
export const portKey: ItemKey = (item) => {
  if (item.kind === 'scalar') {
    const text = scalarText(item);
    if (text === undefined) return undefined;
    const [spec, protocol = 'tcp'] = text.split('/');
    const bracket = spec?.startsWith('[') ? spec.indexOf(']') : -1;
    const ip = bracket > 0 ? spec?.slice(1, bracket) : undefined;
    const rest = (bracket > 0 ? spec?.slice(bracket + 2) : spec) ?? '';
    const parts = rest.split(':');
    const target = parts.pop() ?? '';
    const published = parts.pop() ?? '';
    const host = ip ?? parts.pop() ?? '';
    return `${host}/${published}/${target}/${protocol}`;
  }
  if (item.kind === 'map') {
    const field = (key: string): string => scalarText(child(item, key)) ?? '';
    return `${field('host_ip')}/${field('published')}/${field('target')}/${field('protocol') || 'tcp'}`;
  }
  return undefined;
};

/** Volume identity: the container path. */
export const volumeKey: ItemKey = (item) => {
  if (item.kind === 'scalar') {
    const parts = scalarText(item)?.split(':');
    if (!parts) return undefined;
    return parts.length === 1 ? parts[0] : parts[1];
  }
  return item.kind === 'map' ? scalarText(child(item, 'target')) : undefined;
};

/** Secret/config identity: the target file, defaulted the way the resolver defaults it. */
export function grantKey(defaultDir: string): ItemKey {
  return (item) => {
    const source = item.kind === 'scalar' ? scalarText(item) : scalarText(child(item, 'source'));
    const target = item.kind === 'map' ? scalarText(child(item, 'target')) : undefined;
    const name = target ?? source;
    if (name === undefined) return undefined;
    return name.startsWith('/') ? name : `${defaultDir}/${name}`;
  };
}

/** env_file identity: the path. */
export const envFileKey: ItemKey = (item) => (item.kind === 'map' ? scalarText(child(item, 'path')) : scalarText(item));

/** Plain-value identity, for sequences that are sets (cap_add, dns, profiles…). */
export const valueKey: ItemKey = (item) => (item.kind === 'scalar' ? `${typeof item.value}:${String(item.value)}` : undefined);

/** IPAM pool identity: its subnet. */
export const subnetKey: ItemKey = (item) => scalarText(child(item, 'subnet'));
