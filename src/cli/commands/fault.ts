/**
 * `flotilla fault add|ls|rm|reset`: faults (Toxiproxy toxics) on meshed services, through the mesh
 * control plane that `flotilla serve` runs (FLOTILLA_MESH_API, else http://127.0.0.1:8474).
 * They act on one project: -p, else the Compose file's; without either, on every project.
 * Confirmations go to stderr; the list and every `-o json` answer to stdout.
 */
import pc from 'picocolors';
import { ExitCode, UsageError } from '../../core/errors.js';
import { connectionToxics } from '../../mesh/toxics/catalog.js';
import { httpMessageToxics } from '../../mesh/http/message-toxics.js';
import { didYouMean } from '../../spec/suggest.js';
import { meshClientFromEnv, type MeshClient, type MeshToxicJson, type MeshToxicRequest } from '../../chaos/mesh-client.js';
import { noSuchService, proxiesTaking, selectProxies } from '../../chaos/proxy-selection.js';
import { loadStackFor, type GlobalOptions } from '../context.js';
import { renderTable } from '../output/table.js';

/** `fault add` flags, as commander gives them. */
export interface FaultAddOptions {
  name?: string;
  stream?: string;
  toxicity?: string;
  attr?: string[];
  output?: 'text' | 'json';
}

/** `fault ls`, `rm` and `reset` flags. */
export interface FaultOutputOptions {
  output?: 'text' | 'json';
}

/** Fault types: Toxiproxy's connection toxics, then the mesh's HTTP message faults. */
export const FAULT_TYPES: readonly string[] = [...Object.keys(connectionToxics), ...Object.keys(httpMessageToxics)];

const SCHEMAS = new Map(Object.entries({ ...connectionToxics, ...httpMessageToxics }).map(([type, definition]) => [type, definition.attributes]));

/** A parsed `fault add`. */
export interface FaultAdd {
  service: string;
  toxic: MeshToxicRequest;
}

/** `key=value` pairs to attributes; a value that reads as a number is one. */
export function parseAttributes(pairs: readonly string[]): Record<string, string | number> {
  const attributes: Record<string, string | number> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--attr "${pair}": expected key=value, such as latency=100`);
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    if (key in attributes) throw new UsageError(`--attr ${key} is given twice`);
    attributes[key] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return attributes;
}

/** Checks a `fault add` before anything is sent: type, stream, toxicity and the type's attributes. */
export function parseFaultAdd(service: string, type: string, options: FaultAddOptions): FaultAdd {
  if (!service.trim()) throw new UsageError('the service is empty');
  const schema = SCHEMAS.get(type);
  if (!schema) throw new UsageError(`unknown fault type "${type}"${didYouMean(type, FAULT_TYPES)}`, { hint: `Types: ${FAULT_TYPES.join(', ')}.` });
  const stream = options.stream ?? 'downstream';
  if (stream !== 'upstream' && stream !== 'downstream') throw new UsageError(`--stream "${stream}": expected upstream or downstream`);
  let toxicity = 1;
  if (options.toxicity !== undefined) {
    toxicity = Number(options.toxicity);
    if (options.toxicity.trim() === '' || !Number.isFinite(toxicity) || toxicity < 0 || toxicity > 1) {
      throw new UsageError(`--toxicity "${options.toxicity}": expected a probability from 0 to 1, such as 0.2`);
    }
  }
  if (options.name !== undefined && !/^[A-Za-z0-9._-]+$/.test(options.name)) {
    throw new UsageError(`--name "${options.name}": use letters, digits, '.', '_' and '-'`);
  }
  const attributes = parseAttributes(options.attr ?? []);
  // The mesh checks again; checking here names the flag and suggests the key before anything is sent.
  const checked = schema.safeParse(attributes);
  if (!checked.success) {
    const keys = Object.keys((schema as { shape?: Record<string, unknown> }).shape ?? {});
    const unknown = Object.keys(attributes).find((key) => !keys.includes(key));
    const problems = checked.error.issues.map((issue) => {
      const message = issue.message.replace(/^Invalid input: expected (\w+), received undefined$/, 'required (a $1)');
      return issue.path.length > 0 ? `--attr ${issue.path.map(String).join('.')}: ${message}` : message;
    });
    throw new UsageError(`${type}: ${problems.join('; ')}${unknown ? didYouMean(unknown, keys) : ''}`, {
      hint: keys.length > 0 ? `${type} takes: ${keys.join(', ')}.` : `${type} takes no attributes.`,
    });
  }
  return { service, toxic: { ...(options.name !== undefined && { name: options.name }), type, stream, toxicity, attributes } };
}


function describeToxic(toxic: MeshToxicJson): string {
  const attributes = Object.entries(toxic.attributes ?? {}).map(([key, value]) => `${key}=${String(value)}`).join(' ');
  return `${toxic.type}, ${toxic.stream}, toxicity ${toxic.toxicity}${attributes ? `, ${attributes}` : ''}`;
}

function warnUnreachable(unreachable: string | undefined): void {
  if (unreachable) process.stderr.write(`${pc.yellow('warning')} some mesh proxies did not answer and are missing: ${unreachable}\n`);
}

/** `fault add SERVICE TYPE`: the fault on every proxy of the service that takes it (HTTP faults: its HTTP proxies; connection faults: its TCP ones). */
async function add(client: MeshClient, service: string, type: string, options: FaultAddOptions, project: string | undefined): Promise<number> {
  const request = parseFaultAdd(service, type, options);
  const { proxies, unreachable } = await client.proxies();
  warnUnreachable(unreachable);
  const selected = selectProxies(service, proxies, project);
  if (selected.length === 0) throw noSuchService(service, proxies);
  const targets = proxiesTaking(type, selected);
  const added: { proxy: string; toxic: MeshToxicJson }[] = [];
  try {
    for (const { name } of targets) added.push({ proxy: name, toxic: await client.addToxic(name, request.toxic) });
  } catch (error) {
    // All or nothing: a fault on half a service's ports would be a surprise.
    await Promise.all(added.map(({ proxy, toxic }) => client.removeToxic(proxy, toxic.name).catch(() => false)));
    throw error;
  }
  if (options.output === 'json') process.stdout.write(`${JSON.stringify(added, null, 2)}\n`);
  for (const { proxy, toxic } of added) process.stderr.write(`${pc.green('added')} ${pc.bold(toxic.name)} to ${proxy} (${describeToxic(toxic)})\n`);
  return ExitCode.ok;
}

/** `fault ls [SERVICE]`: every fault on every proxy, or on one service's proxies. */
async function list(client: MeshClient, service: string | undefined, options: FaultOutputOptions, project: string | undefined): Promise<number> {
  const { proxies, unreachable } = await client.proxies();
  warnUnreachable(unreachable);
  let shown = Object.entries(proxies).map(([name, proxy]) => ({ name, proxy }));
  if (service !== undefined) {
    shown = selectProxies(service, proxies, project);
    if (shown.length === 0) throw noSuchService(service, proxies);
  } else if (project !== undefined) {
    shown = shown.filter(({ proxy }) => proxy.project === undefined || proxy.project === project);
  }
  shown.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (options.output === 'json') {
    const data = shown.map(({ name, proxy }) => ({
      proxy: name,
      ...(proxy.project !== undefined && { project: proxy.project }),
      ...(proxy.service !== undefined && { service: proxy.service }),
      kind: proxy.kind ?? 'tcp',
      enabled: proxy.enabled,
      faults: proxy.toxics,
    }));
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return ExitCode.ok;
  }
  const rows = shown.flatMap(({ name, proxy }) => [
    ...(proxy.enabled ? [] : [[name, '-', 'disabled', 'both', '1', 'the proxy is disabled: connections are refused']]),
    ...proxy.toxics.map((toxic) => [
      name,
      toxic.name,
      toxic.type,
      toxic.stream,
      String(toxic.toxicity),
      Object.entries(toxic.attributes ?? {}).map(([key, value]) => `${key}=${String(value)}`).join(' '),
    ]),
  ]);
  if (rows.length === 0) {
    process.stderr.write(`No faults on ${shown.length === 1 ? shown[0]?.name : `${shown.length} proxies`}\n`);
    return ExitCode.ok;
  }
  process.stdout.write(renderTable(['PROXY', 'FAULT', 'TYPE', 'STREAM', 'TOXICITY', 'ATTRIBUTES'], rows));
  return ExitCode.ok;
}

/** `fault rm SERVICE NAME`: the fault off every proxy of the service that has it. */
async function remove(client: MeshClient, service: string, name: string, options: FaultOutputOptions, project: string | undefined): Promise<number> {
  const { proxies, unreachable } = await client.proxies();
  warnUnreachable(unreachable);
  const selected = selectProxies(service, proxies, project);
  if (selected.length === 0) throw noSuchService(service, proxies);
  const removed: string[] = [];
  for (const { name: proxy } of selected) if (await client.removeToxic(proxy, name)) removed.push(proxy);
  if (removed.length === 0) {
    const present = selected.flatMap(({ proxy }) => proxy.toxics.map((toxic) => toxic.name));
    throw new UsageError(`no fault named "${name}" on ${service}${didYouMean(name, present)}`, {
      hint: present.length > 0 ? `Faults on ${service}: ${[...new Set(present)].join(', ')}.` : `${service} has no faults.`,
    });
  }
  if (options.output === 'json') process.stdout.write(`${JSON.stringify({ removed: name, from: removed })}\n`);
  process.stderr.write(`${pc.green('removed')} ${pc.bold(name)} from ${removed.join(', ')}\n`);
  return ExitCode.ok;
}

/** `fault reset`: every fault removed and every proxy enabled, on the project's mesh proxies (without a project: every one). */
async function reset(client: MeshClient, options: FaultOutputOptions, project: string | undefined): Promise<number> {
  await client.reset({ project });
  if (options.output === 'json') process.stdout.write(`${JSON.stringify({ reset: true, ...(project !== undefined && { project }) })}\n`);
  const scope = project === undefined ? 'on every mesh proxy' : `in project ${project}`;
  process.stderr.write(`${pc.green('reset')} every fault removed and every proxy enabled ${scope} (${client.url})\n`);
  return ExitCode.ok;
}

/**
 * The project the fault commands act on: -p, else the project of the Compose file found (so a
 * service name means this project's service, and reset leaves other projects alone), else none:
 * without a Compose file, names are the mesh's and reset resets everything.
 */
export async function faultProject(global: GlobalOptions): Promise<string | undefined> {
  if (global.projectName !== undefined) return global.projectName;
  try {
    return (await loadStackFor(global)).name;
  } catch (error) {
    // Only a missing file is "no project"; a Compose file named with -f, or one that is broken, is an error to see.
    if (global.file.length === 0 && error instanceof UsageError && error.message.startsWith('no Compose file found')) return undefined;
    throw error;
  }
}

/** `fault add SERVICE TYPE`, `fault ls [SERVICE]`, `fault rm SERVICE NAME`, `fault reset`: the first argument is the action. */
export async function run(action: string, ...rest: unknown[]): Promise<number> {
  const client = meshClientFromEnv(process.env);
  switch (action) {
    case 'add': {
      const [service, type, options, global] = rest as [string, string, FaultAddOptions, GlobalOptions];
      parseFaultAdd(service, type, options);
      return add(client, service, type, options, await faultProject(global));
    }
    case 'ls': {
      const [service, options, global] = rest as [string | undefined, FaultOutputOptions, GlobalOptions];
      return list(client, service, options, await faultProject(global));
    }
    case 'rm': {
      const [service, name, options, global] = rest as [string, string, FaultOutputOptions, GlobalOptions];
      return remove(client, service, name, options, await faultProject(global));
    }
    case 'reset': {
      const [options, global] = rest as [FaultOutputOptions, GlobalOptions];
      return reset(client, options, await faultProject(global));
    }
    default:
      throw new UsageError(`unknown fault action "${action}"`, { hint: 'Actions: add, ls, rm, reset.' });
  }
}
