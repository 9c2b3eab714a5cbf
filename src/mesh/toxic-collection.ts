/**
 * The toxics of one proxy, in order, per direction (Toxiproxy's ToxicCollection). Every change is
 * synchronous and is pushed at once to the live links that subscribed, so the API never waits on a
 * connection; what a link does with a change (flush, re-roll toxicity) is in link.ts.
 */
import type * as z from 'zod';
import { badRequest, invalidStream, invalidToxicType, toxicExists, toxicNotFound } from './errors.js';
import type { ToxicCatalog } from './toxics/catalog.js';
import type { StreamDirection, ToxicDefinition } from './toxics/types.js';

/** A toxic as configured on a proxy: Toxiproxy's toxic JSON, plus its definition. Immutable; an update makes a new one. */
export interface Toxic {
  readonly name: string;
  readonly type: string;
  readonly stream: StreamDirection;
  /** Probability, 0–1, that the toxic applies to a given connection (rolled per link). */
  readonly toxicity: number;
  /** Validated and defaulted by the type's schema. */
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly definition: ToxicDefinition;
}

/** The JSON Toxiproxy returns for a toxic. */
export interface ToxicJson {
  name: string;
  type: string;
  stream: StreamDirection;
  toxicity: number;
  attributes: Record<string, unknown>;
}

/** A new toxic, as a client sends it: only `type` is needed. */
export interface ToxicInput {
  name?: string | undefined;
  type?: string | undefined;
  /** `downstream` unless given. */
  stream?: string | undefined;
  /** 1 unless given. */
  toxicity?: number | undefined;
  attributes?: Readonly<Record<string, unknown>> | undefined;
}

/** A change to a toxic: attributes are merged over the current ones. Name, type and stream cannot change. */
export interface ToxicPatch {
  toxicity?: number | undefined;
  attributes?: Readonly<Record<string, unknown>> | undefined;
}

/** Told of every change, synchronously, in order. */
export interface ToxicListener {
  toxicAdded(toxic: Toxic): void;
  toxicUpdated(toxic: Toxic): void;
  toxicRemoved(toxic: Toxic): void;
}

/** Renders a toxic as Toxiproxy's JSON. */
export function toxicToJson(toxic: Toxic): ToxicJson {
  return { name: toxic.name, type: toxic.type, stream: toxic.stream, toxicity: toxic.toxicity, attributes: { ...toxic.attributes } };
}

/** Toxiproxy parses the stream name case-insensitively. */
function parseStream(value: string | undefined): StreamDirection {
  const stream = (value ?? 'downstream').toLowerCase();
  if (stream !== 'upstream' && stream !== 'downstream') throw invalidStream();
  return stream;
}

function checkToxicity(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || value > 1) throw badRequest(`toxicity: ${value} is not between 0 and 1`);
  return value;
}

/** Formats zod issues under `attributes.` the way a client wrote them. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: string): string {
  return issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

function parseAttributes(type: string, definition: ToxicDefinition, input: unknown): Record<string, unknown> {
  const parsed = definition.attributes.safeParse(input ?? {});
  if (!parsed.success) throw badRequest(`${type} ${describeIssues(parsed.error.issues, 'attributes')}`);
  return parsed.data as Record<string, unknown>;
}

/** The ordered toxics of one proxy. */
export class ToxicCollection {
  private readonly chains: Record<StreamDirection, Toxic[]> = { upstream: [], downstream: [] };
  private readonly listeners = new Set<ToxicListener>();

  constructor(private readonly catalog: ToxicCatalog) {}

  /** Every toxic: upstream first, then downstream, each in the order added (Toxiproxy's order). */
  list(): Toxic[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  /** The chain of one direction, in order. */
  chain(direction: StreamDirection): readonly Toxic[] {
    return this.chains[direction];
  }

  /** The toxic of that name, if any. */
  find(name: string): Toxic | undefined {
    return this.chains.upstream.find((toxic) => toxic.name === name) ?? this.chains.downstream.find((toxic) => toxic.name === name);
  }

  /** The toxic of that name; 404 otherwise. */
  get(name: string): Toxic {
    const toxic = this.find(name);
    if (!toxic) throw toxicNotFound(name);
    return toxic;
  }

  /** Adds a toxic at the end of its direction's chain, with Toxiproxy's defaults and checks, in Toxiproxy's order. */
  add(input: ToxicInput): Toxic {
    const stream = parseStream(input.stream);
    const type = input.type ?? '';
    const name = input.name ? input.name : `${type}_${stream}`;
    const definition = this.catalog.get(type);
    if (!definition) throw invalidToxicType(type, [...this.catalog.keys()]);
    if (this.find(name)) throw toxicExists(name);
    const toxicity = checkToxicity(input.toxicity, 1);
    const attributes = parseAttributes(type, definition, input.attributes);
    const toxic: Toxic = { name, type, stream, toxicity, attributes, definition };
    this.chains[stream].push(toxic);
    for (const listener of this.listeners) listener.toxicAdded(toxic);
    return toxic;
  }

  /** Changes a toxic's toxicity and attributes in place (same position in the chain). */
  update(name: string, patch: ToxicPatch): Toxic {
    const current = this.get(name);
    const toxicity = checkToxicity(patch.toxicity, current.toxicity);
    const attributes = parseAttributes(current.type, current.definition, { ...current.attributes, ...patch.attributes });
    const toxic: Toxic = { ...current, toxicity, attributes };
    const chain = this.chains[current.stream];
    chain[chain.indexOf(current)] = toxic;
    for (const listener of this.listeners) listener.toxicUpdated(toxic);
    return toxic;
  }

  /** Removes a toxic; live links flush what it held. */
  remove(name: string): void {
    const toxic = this.get(name);
    const chain = this.chains[toxic.stream];
    chain.splice(chain.indexOf(toxic), 1);
    for (const listener of this.listeners) listener.toxicRemoved(toxic);
  }

  /** Removes every toxic. */
  reset(): void {
    for (const toxic of this.list()) this.remove(toxic.name);
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(listener: ToxicListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
