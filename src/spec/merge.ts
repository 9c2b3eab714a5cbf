/**
 * The Compose merge rules, used for `-f` overlays, `extends` and the first file alike:
 * mappings merge key by key; sequences append; command, entrypoint and healthcheck.test are
 * replaced; environment/labels/args merge by variable name whatever their form (list or map);
 * ports, volumes, secrets, configs and env_file merge by identity; set-like lists drop duplicates.
 * `!reset` removes a value, `!override` replaces it without merging.
 */
import { envFileKey, grantKey, portKey, subnetKey, valueKey, volumeKey, type ItemKey } from './merge-keys.js';
import { ymap, yscalar, yseq, type YEntry, type YMap, type YNode, type YSeq } from './yaml-node.js';

type Rule =
  | { kind: 'replace' }
  | { kind: 'keyValue'; split: Split }
  | { kind: 'unique'; key: ItemKey }
  | { kind: 'toMap'; convert: (node: YNode) => YNode }
  | { kind: 'logging' };

const REPLACE: Rule = { kind: 'replace' };
/** Splits a list item into name and value (undefined: no value given). */
type Split = (text: string) => [string, string | undefined];
const splitAt = (text: string, at: number): [string, string | undefined] => (at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]);
const byEquals: Split = (text) => splitAt(text, text.indexOf('='));
/** extra_hosts accepts `host=ip` and the older `host:ip`. */
const byEqualsOrColon: Split = (text) => splitAt(text, text.includes('=') ? text.indexOf('=') : text.indexOf(':'));

const KEY_VALUE: Rule = { kind: 'keyValue', split: byEquals };
const SET: Rule = { kind: 'unique', key: valueKey };

/** Rules by path pattern; `*` stands for a user-chosen name (service, network, ulimit…). */
const RULES = new Map<string, Rule>([
  ['services.*.command', REPLACE],
  ['services.*.entrypoint', REPLACE],
  ['services.*.healthcheck.test', REPLACE],
  ['services.*.environment', KEY_VALUE],
  ['services.*.labels', KEY_VALUE],
  ['services.*.annotations', KEY_VALUE],
  ['services.*.sysctls', KEY_VALUE],
  ['services.*.extra_hosts', { kind: 'keyValue', split: byEqualsOrColon }],
  ['services.*.build.args', KEY_VALUE],
  ['services.*.build.labels', KEY_VALUE],
  ['services.*.deploy.labels', KEY_VALUE],
  ['networks.*.labels', KEY_VALUE],
  ['volumes.*.labels', KEY_VALUE],
  ['secrets.*.labels', KEY_VALUE],
  ['configs.*.labels', KEY_VALUE],
  ['services.*.ports', { kind: 'unique', key: portKey }],
  ['services.*.volumes', { kind: 'unique', key: volumeKey }],
  ['services.*.secrets', { kind: 'unique', key: grantKey('/run/secrets') }],
  ['services.*.configs', { kind: 'unique', key: grantKey('') }],
  ['services.*.env_file', { kind: 'unique', key: envFileKey }],
  ['services.*.expose', SET],
  ['services.*.cap_add', SET],
  ['services.*.cap_drop', SET],
  ['services.*.dns', SET],
  ['services.*.dns_search', SET],
  ['services.*.dns_opt', SET],
  ['services.*.profiles', SET],
  ['services.*.security_opt', SET],
  ['services.*.tmpfs', SET],
  ['services.*.networks.*.aliases', SET],
  ['networks.*.ipam.config', { kind: 'unique', key: subnetKey }],
  ['services.*.depends_on', { kind: 'toMap', convert: (node) => listToMap(node, () => ymap(node.pos)) }],
  ['services.*.networks', { kind: 'toMap', convert: (node) => listToMap(node, (item) => yscalar(item.pos, null)) }],
  ['services.*.build', { kind: 'toMap', convert: buildToMap }],
  ['services.*.ulimits.*', { kind: 'toMap', convert: ulimitToMap }],
  ['services.*.logging', { kind: 'logging' }],
]);

/** Mappings whose keys are names chosen by the user, matched by `*` in RULES. */
const NAMED = new Set(['services', 'networks', 'volumes', 'secrets', 'configs', 'services.*.ulimits', 'services.*.networks']);

/** Merges `override` onto `base` at `pattern` (e.g. `['services', '*']`); undefined means "removed". */
export function mergeNode(base: YNode | undefined, override: YNode, pattern: readonly string[] = []): YNode | undefined {
  if (override.tag === 'reset') return undefined;
  // Taken as it is, tags included: a later merge (another -f file, or extends) may still need them.
  // The loader strips what is left with clean() once the model is complete.
  if (base === undefined || override.tag === 'override') return override;
  const rule = RULES.get(pattern.join('.'));
  switch (rule?.kind) {
    case 'replace':
      return clean(override);
    case 'keyValue':
      return mergeKeyValue(base, override, rule.split) ?? clean(override);
    case 'unique':
      return base.kind === 'seq' && override.kind === 'seq' ? mergeUnique(base, override, rule.key) : clean(override);
    case 'toMap': {
      const a = rule.convert(base);
      const b = rule.convert(override);
      return a.kind === 'map' && b.kind === 'map' ? mergeMaps(a, b, pattern) : clean(override);
    }
    case 'logging': {
      // A different driver makes the old options meaningless: replace the whole block.
      const driverA = base.kind === 'map' ? base.entries.get('driver')?.value : undefined;
      const driverB = override.kind === 'map' ? override.entries.get('driver')?.value : undefined;
      const differ = driverA?.kind === 'scalar' && driverB?.kind === 'scalar' && driverA.value !== driverB.value;
      if (differ || base.kind !== 'map' || override.kind !== 'map') return clean(override);
      return mergeMaps(base, override, pattern);
    }
    case undefined:
      break;
  }
  if (base.kind === 'map' && override.kind === 'map') return mergeMaps(base, override, pattern);
  if (base.kind === 'seq' && override.kind === 'seq') return yseq(override.pos, [...base.items, ...cleanItems(override.items)]);
  return clean(override);
}

function mergeMaps(base: YMap, override: YMap, pattern: readonly string[]): YMap {
  const entries = new Map(base.entries);
  const named = NAMED.has(pattern.join('.'));
  for (const [key, entry] of override.entries) {
    const merged = mergeNode(entries.get(key)?.value, entry.value, [...pattern, named ? '*' : key]);
    if (merged === undefined) entries.delete(key);
    else entries.set(key, { keyPos: entry.keyPos, value: merged });
  }
  return ymap(base.pos, entries);
}

/** `environment`, `labels`…: both forms become a mapping so `FOO=1` in a list overrides `FOO: 0` in a map. */
function mergeKeyValue(base: YNode, override: YNode, split: Split): YMap | undefined {
  const a = keyValueEntries(base, split);
  const b = keyValueEntries(override, split);
  if (!a || !b) return undefined;
  for (const [key, entry] of b) {
    if (entry.value.tag === 'reset') a.delete(key);
    else a.set(key, { keyPos: entry.keyPos, value: clean(entry.value) ?? entry.value });
  }
  return ymap(base.pos, a);
}

function keyValueEntries(node: YNode, split: Split): Map<string, YEntry> | undefined {
  if (node.kind === 'map') return new Map(node.entries);
  if (node.kind !== 'seq') return undefined;
  const entries = new Map<string, YEntry>();
  for (const item of node.items) {
    if (item.kind !== 'scalar' || item.value === null) return undefined;
    const [key, value] = split(String(item.value));
    entries.set(key, { keyPos: item.pos, value: yscalar(item.pos, value ?? null) });
  }
  return entries;
}

function mergeUnique(base: YSeq, override: YSeq, keyOf: ItemKey): YSeq {
  const items = [...base.items];
  const index = new Map<string, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    if (key !== undefined && !index.has(key)) index.set(key, i);
  });
  for (const item of cleanItems(override.items)) {
    const key = keyOf(item);
    const at = key === undefined ? undefined : index.get(key);
    if (at !== undefined) {
      items[at] = item;
    } else {
      if (key !== undefined) index.set(key, items.length);
      items.push(item);
    }
  }
  return yseq(override.pos, items);
}

/** `[a, b]` → `{a: <empty>, b: <empty>}`; mappings pass through. */
function listToMap(node: YNode, empty: (item: YNode) => YNode): YNode {
  if (node.kind !== 'seq') return node;
  const entries = new Map<string, YEntry>();
  for (const item of node.items) {
    if (item.kind !== 'scalar' || item.value === null) return node;
    entries.set(String(item.value), { keyPos: item.pos, value: empty(item) });
  }
  return ymap(node.pos, entries);
}

function buildToMap(node: YNode): YNode {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') return node;
  return ymap(node.pos, new Map([['context', { keyPos: node.pos, value: node }]]));
}

function ulimitToMap(node: YNode): YNode {
  if (node.kind !== 'scalar' || node.value === null) return node;
  return ymap(node.pos, new Map([['soft', { keyPos: node.pos, value: node }], ['hard', { keyPos: node.pos, value: node }]]));
}

function cleanItems(items: readonly YNode[]): YNode[] {
  const out: YNode[] = [];
  for (const item of items) {
    const cleaned = clean(item);
    if (cleaned) out.push(cleaned);
  }
  return out;
}

/** Drops `!reset` values and `!override` tags that no merge used. */
export function clean(node: YNode): YNode | undefined {
  if (node.tag === 'reset') return undefined;
  if (node.kind === 'scalar') return node.tag ? yscalar(node.pos, node.value) : node;
  if (node.kind === 'seq') {
    const items = cleanItems(node.items);
    return !node.tag && items.length === node.items.length && items.every((item, i) => item === node.items[i]) ? node : yseq(node.pos, items);
  }
  let changed = node.tag !== undefined;
  const entries = new Map<string, YEntry>();
  for (const [key, entry] of node.entries) {
    const value = clean(entry.value);
    if (value !== entry.value) changed = true;
    if (value) entries.set(key, value === entry.value ? entry : { keyPos: entry.keyPos, value });
  }
  return changed ? ymap(node.pos, entries) : node;
}
