/**
 * Message-level faults for HTTP proxies: abort, drop, duplicate and delay. They live in the same
 * catalog as Toxiproxy's connection toxics (so the API validates, stores and lists them), carry only
 * an attribute schema, and are applied per request by the HTTP proxy. Each may narrow the requests
 * it applies to with `method`, `path` (a prefix) and `header` ("name: value").
 */
import * as z from 'zod';
import { createToxicCatalog, type ToxicCatalog } from '../toxics/catalog.js';
import type { MessageToxic } from '../toxics/types.js';
import type { Toxic } from '../toxic-collection.js';

/** Longest a `http_drop` in `hang` mode holds a request before resetting it, unless the caller gives up first. */
export const DEFAULT_MAX_HANG_MS = 5 * 60_000;

/** Which requests a fault applies to; every given attribute must match. */
export interface MessageMatch {
  /** Upper-cased method, e.g. `POST`. */
  method?: string | undefined;
  /** Prefix of the path (query excluded). */
  path?: string | undefined;
  /** `name: value`; the name is case-insensitive, the value exact. */
  header?: string | undefined;
}

const matchShape = {
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, 'must be an HTTP method')
    .transform((value) => value.toUpperCase())
    .optional(),
  path: z.string().startsWith('/', 'must start with /').optional(),
  header: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/, 'must be "name: value"').optional(),
};

/** `http_abort`: answers `status` without calling the upstream (upstream), or instead of its answer (downstream). */
export interface HttpAbortAttributes extends MessageMatch {
  status: number;
}

/** `http_drop`: `reset` resets the caller's connection; `hang` never answers (until the caller gives up or `max_hang_ms`). */
export interface HttpDropAttributes extends MessageMatch {
  mode: 'reset' | 'hang';
  max_hang_ms: number;
}

/** `http_duplicate`: the request is delivered twice upstream; the caller gets the first delivery's answer. */
export type HttpDuplicateAttributes = MessageMatch;

/** `http_delay`: waits `delay_ms` ± `jitter_ms` before forwarding (upstream) or before answering (downstream). */
export interface HttpDelayAttributes extends MessageMatch {
  delay_ms: number;
  jitter_ms: number;
}

const nonNegative = z.number().int().nonnegative();

/** The four message toxics, by type name. */
export const httpMessageToxics = {
  http_abort: {
    level: 'message',
    attributes: z.strictObject({ ...matchShape, status: z.number().int().min(100).max(599).default(503) }),
  } satisfies MessageToxic<HttpAbortAttributes>,
  http_drop: {
    level: 'message',
    attributes: z.strictObject({ ...matchShape, mode: z.enum(['reset', 'hang']).default('reset'), max_hang_ms: nonNegative.default(DEFAULT_MAX_HANG_MS) }),
  } satisfies MessageToxic<HttpDropAttributes>,
  http_duplicate: {
    level: 'message',
    attributes: z.strictObject({ ...matchShape }),
  } satisfies MessageToxic<HttpDuplicateAttributes>,
  http_delay: {
    level: 'message',
    attributes: z.strictObject({ ...matchShape, delay_ms: nonNegative.default(0), jitter_ms: nonNegative.default(0) }),
  } satisfies MessageToxic<HttpDelayAttributes>,
} as const;

/** Toxiproxy's connection toxics plus the HTTP message toxics: what a mesh registry accepts. */
export function createMeshToxicCatalog(): ToxicCatalog {
  return createToxicCatalog(httpMessageToxics);
}

/** The request attributes a fault can match on. */
export interface MatchedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Whether `toxic`'s match attributes select `request`. */
export function matchesRequest(attributes: MessageMatch, request: MatchedRequest): boolean {
  if (attributes.method !== undefined && attributes.method !== request.method) return false;
  if (attributes.path !== undefined && !request.path.startsWith(attributes.path)) return false;
  if (attributes.header !== undefined) {
    const colon = attributes.header.indexOf(':');
    const name = attributes.header.slice(0, colon).trim().toLowerCase();
    const want = attributes.header.slice(colon + 1).trim();
    const have = request.headers[name];
    const values = have === undefined ? [] : Array.isArray(have) ? have : [have];
    if (!values.some((value) => value === want)) return false;
  }
  return true;
}

/** One fault chosen for one request: the toxic as it was when the request arrived. */
export interface ChosenFault<A> {
  toxic: Toxic;
  attributes: A;
}

/** What the chosen faults do to one request, per direction. At most one fault of each type applies per direction: the first in chain order. */
export interface FaultPlan {
  upstream: DirectionFaults;
  downstream: DirectionFaults;
  /** Any fault at all: false on the pass-through path. */
  any: boolean;
}

/** The faults of one direction. */
export interface DirectionFaults {
  abort?: ChosenFault<HttpAbortAttributes> | undefined;
  drop?: ChosenFault<HttpDropAttributes> | undefined;
  duplicate?: ChosenFault<HttpDuplicateAttributes> | undefined;
  delays: ChosenFault<HttpDelayAttributes>[];
}

const NO_FAULTS: FaultPlan = Object.freeze({ upstream: { delays: [] }, downstream: { delays: [] }, any: false });

/**
 * Rolls each message toxic's toxicity for this request and keeps those that match it. The plan is a
 * snapshot: toxics added or removed later do not change a request already in flight (except that
 * removing or updating a delay or hang releases it, see http-proxy.ts).
 */
export function planFaults(toxics: readonly Toxic[], request: MatchedRequest, random: () => number): FaultPlan {
  let plan: FaultPlan | undefined;
  for (const toxic of toxics) {
    if (toxic.definition.level !== 'message') continue;
    if (toxic.toxicity <= 0 || (toxic.toxicity < 1 && random() >= toxic.toxicity)) continue;
    if (!matchesRequest(toxic.attributes, request)) continue;
    plan ??= { upstream: { delays: [] }, downstream: { delays: [] }, any: true };
    const faults = plan[toxic.stream];
    switch (toxic.type) {
      case 'http_abort':
        faults.abort ??= { toxic, attributes: toxic.attributes as unknown as HttpAbortAttributes };
        break;
      case 'http_drop':
        faults.drop ??= { toxic, attributes: toxic.attributes as unknown as HttpDropAttributes };
        break;
      case 'http_duplicate':
        faults.duplicate ??= { toxic, attributes: toxic.attributes };
        break;
      case 'http_delay':
        faults.delays.push({ toxic, attributes: toxic.attributes as unknown as HttpDelayAttributes });
        break;
      default:
        break;
    }
  }
  return plan ?? NO_FAULTS;
}
