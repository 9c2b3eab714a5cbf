/**
 * Applying a request's message faults: delays (with jitter), drops (reset, or hang until released),
 * and the proxy's own short answers (aborts, errors).
 */
import type { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Cancel } from './cancel.js';
import type { ForwardContext, Outcome } from './forward-context.js';
import type { ChosenFault, DirectionFaults, HttpDropAttributes } from './message-toxics.js';
import type { Toxic } from '../toxic-collection.js';

/** The toxic's release, made on first use. */
function releaseOf(context: ForwardContext, toxic: Toxic): Cancel {
  let release = context.releases.get(toxic.name);
  if (!release) {
    release = new Cancel();
    context.releases.set(toxic.name, release);
  }
  return release;
}

/** Waits `ms`, or less if any of `cancels` fires; resolves true if the full time passed. */
export function sleep(ms: number, cancels: readonly Cancel[]): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const removers: (() => void)[] = [];
    let settled = false;
    const done = (full: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const remove of removers) remove();
      resolve(full);
    };
    const timer = setTimeout(() => done(true), ms);
    for (const cancel of cancels) removers.push(cancel.onCancel(() => done(false)));
  });
}

/** Applies the delays of one direction, in chain order. */
export async function applyDelays(context: ForwardContext, faults: DirectionFaults, outcome: Outcome, signal: Cancel): Promise<void> {
  for (const { toxic, attributes } of faults.delays) {
    const jitter = attributes.jitter_ms > 0 ? (context.random() * 2 - 1) * attributes.jitter_ms : 0;
    outcome.faults.push(toxic.name);
    await sleep(Math.max(0, attributes.delay_ms + jitter), [signal, releaseOf(context, toxic)]);
  }
}

/**
 * Applies an `http_drop`: `reset` resets the caller's connection at once; `hang` holds the request
 * until the caller gives up, `max_hang_ms` passes (then resets), or the toxic is removed or updated
 * (then the request goes on normally). Resolves true if the request was dropped.
 */
export async function applyDrop(context: ForwardContext, drop: ChosenFault<HttpDropAttributes>, caller: ServerResponse | Socket, outcome: Outcome, signal: Cancel): Promise<boolean> {
  outcome.faults.push(drop.toxic.name);
  if (drop.attributes.mode === 'hang') {
    const release = releaseOf(context, drop.toxic);
    const full = await sleep(drop.attributes.max_hang_ms, [signal, release]);
    if (!full && release.cancelled && !signal.cancelled) return false;
  }
  outcome.error = `dropped by ${drop.toxic.name}`;
  resetSocket(caller instanceof Socket ? caller : caller.socket);
  return true;
}

/** Resets a caller's connection (TCP RST). */
export function resetSocket(socket: Socket | null): void {
  if (!socket || socket.destroyed) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Answers with a short plain-text error from the proxy itself (`close` ends the connection after it). */
export function answer(response: ServerResponse, status: number, message: string, close = false): void {
  if (response.headersSent || response.destroyed) {
    response.destroy();
    return;
  }
  const body = `${message}\n`;
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-flotilla-mesh': 'proxy',
    ...(close ? { connection: 'close' } : {}),
  });
  response.end(body);
}
