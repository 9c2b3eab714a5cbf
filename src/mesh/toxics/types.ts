/**
 * The toxic contract. A connection-level toxic is one `pipe()` method over chunks of one direction
 * of one connection; state, a start hook, an end-of-stream hook and cleanup are optional extras
 * (Toxiproxy's shape). Message-level toxics (HTTP abort/drop/duplicate/delay) share the catalog and
 * the API but carry no behaviour here: the HTTP proxy that understands messages will apply them.
 */
import type * as z from 'zod';

/** Which direction a toxic affects: `upstream` is client → server, `downstream` server → client. */
export type StreamDirection = 'upstream' | 'downstream';

/** Bytes read from one side of a connection, stamped with when they arrived. */
export interface Chunk {
  data: Buffer;
  /** `performance.now()` at arrival, in ms; latency moves it forward so chained latencies add up. */
  ts: number;
}

/** Hands data on to the next toxic in the chain (or the socket); resolves once accepted. */
export type Emit = (chunk: Chunk) => Promise<void>;

/** What a toxic sees on one link: its attributes, its per-link state, and the link's controls. */
export interface ToxicContext<A, S> {
  readonly attributes: A;
  readonly state: S;
  /** Aborted when the toxic is updated or removed, or the connection closes: hand on what you hold, then return. */
  readonly signal: AbortSignal;
  /** Waits `ms`; resolves `false` early when `signal` aborts. */
  sleep(ms: number): Promise<boolean>;
  /** Ends the connection once what was emitted is written: FIN to both peers. */
  close(): void;
  /** Resets both peers (TCP RST, "connection reset by peer"). */
  reset(): void;
  /** Uniform in [0, 1); injectable so tests can be deterministic. */
  random(): number;
}

/** A fault on the byte stream of a TCP connection. */
export interface ConnectionToxic<A, S = undefined> {
  readonly level: 'connection';
  /** Validates and defaults the `attributes` object (strict: unknown keys are refused). */
  readonly attributes: z.ZodType<A>;
  /** Handles one chunk: emit it (whole, sliced, later) or drop it. */
  pipe(chunk: Chunk, context: ToxicContext<A, S>, emit: Emit): Promise<void> | void;
  /** Optional: per-link state, made when the toxic first meets a link; kept across updates. */
  newState?(): S;
  /** Optional: runs when the toxic starts on a link (connection start, toxic added or updated); returns a disposer. */
  start?(context: ToxicContext<A, S>): (() => void) | undefined;
  /** Optional: runs at end of stream, before the FIN is passed on. */
  end?(context: ToxicContext<A, S>): Promise<void> | void;
  /** Optional: runs when the toxic is removed from a link where it was active. */
  cleanup?(context: ToxicContext<A, S>): void;
}

/** A fault on HTTP messages (abort, drop, duplicate, delay): validated here, applied by the HTTP proxy. */
export interface MessageToxic<A> {
  readonly level: 'message';
  readonly attributes: z.ZodType<A>;
}

/** Any toxic a proxy can carry. */
// Method parameters are bivariant, so any ConnectionToxic<A, S> is assignable to the erased form.
export type ToxicDefinition = ConnectionToxic<unknown, unknown> | MessageToxic<unknown>;

/** Helps inference when declaring a connection toxic. */
export function defineConnectionToxic<A, S = undefined>(toxic: ConnectionToxic<A, S>): ConnectionToxic<A, S> {
  return toxic;
}
