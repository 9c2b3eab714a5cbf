/**
 * What the proxy shares with each request (ForwardContext) and what one request carries through
 * forward.ts, faults.ts and deliver.ts (RequestState).
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { BufferBudget } from './body.js';
import type { Cancel } from './cancel.js';
import type { HttpCounters } from './http-proxy.js';
import type { FaultPlan } from './message-toxics.js';
import type { ReplicaSet } from './replicas.js';
import type { ResilienceSettings, RetryBudget } from './resilience.js';
import type { MeshTelemetry } from './telemetry/recorder.js';
import type { TraceContext } from './trace-context.js';
import type { Toxic } from '../toxic-collection.js';

/** What the proxy shares with each request. Fields change between requests, never during one. */
export interface ForwardContext {
  resilience: ResilienceSettings;
  replicas: ReplicaSet;
  budget: RetryBudget;
  agent: http.Agent;
  telemetry: MeshTelemetry;
  resolveCaller: (ip: string) => string;
  /** Per request: bytes of a body held for a replay. */
  maxBodyBufferBytes: number;
  /** Proxy-wide: bytes of bodies held for replays, all requests together. */
  bodyBudget: BufferBudget;
  /** Duplicates in flight at most; past it a duplicate is skipped (and counted). */
  maxDuplicatesInFlight: number;
  /** How long a duplicate may take, head and body, when the resilience settings give no attempt timeout. */
  duplicateTimeoutMs: number;
  /** A caller's request body that stalls this long (while the proxy reads it) is given up; 0 for never. */
  requestBodyIdleTimeoutMs: number;
  /** Callers' sockets whose request the proxy holds on purpose (upstream delay, drop hang): no request timeout for them. */
  holding: WeakSet<Socket>;
  random: () => number;
  /** The proxy's message toxics, in chain order; replaced (never mutated) on change. */
  messageToxics: readonly Toxic[];
  /** Per toxic name: cancelled when the toxic is updated or removed, releasing delays and hangs it holds. */
  releases: Map<string, Cancel>;
  counters: HttpCounters;
  /** Cancelled when the proxy is disabled (duplicates in flight stop). */
  closing: Cancel;
}

/** What one request came to, for telemetry. */
export interface Outcome {
  attempts: number;
  upstream: string | undefined;
  error: string | undefined;
  faults: string[];
}

/** One request on its way through the proxy. */
export interface RequestState {
  method: string;
  target: string;
  trace: TraceContext;
  serverSpanId: string;
  callerAddress: string;
  plan: FaultPlan | undefined;
  outcome: Outcome;
  /** Cancelled when the caller goes away, or the proxy gives the request up. */
  signal: Cancel;
  /** Keeps the buffered body (and its share of the budget) until every holder lets go. */
  body: BodyHold;
}

/** Reference count on a buffered body's share of the proxy's budget. */
export class BodyHold {
  private holders = 1;
  private bytes = 0;

  constructor(private readonly budget: BufferBudget) {}

  /** The body now held is `bytes` long (charged already). */
  hold(bytes: number): void {
    this.bytes = bytes;
  }

  /** One more holder (a duplicate in flight). */
  retain(): void {
    this.holders++;
  }

  /** A holder lets go; the last one gives the bytes back. */
  release(): void {
    if (--this.holders > 0 || this.bytes === 0) return;
    this.budget.give(this.bytes);
    this.bytes = 0;
  }
}
