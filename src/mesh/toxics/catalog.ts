/**
 * The toxic types a proxy accepts, by name. Built-ins are Toxiproxy's connection-level toxics; the
 * HTTP proxy extends the catalog with message-level faults through `createToxicCatalog({ … })`.
 */
import { bandwidthToxic } from './bandwidth.js';
import { latencyToxic } from './latency.js';
import { limitDataToxic } from './limit-data.js';
import { resetPeerToxic } from './reset-peer.js';
import { slicerToxic } from './slicer.js';
import { timeoutToxic } from './timeout.js';
import type { ToxicDefinition } from './types.js';

/** Toxic definitions by type name. */
export type ToxicCatalog = ReadonlyMap<string, ToxicDefinition>;

/** Toxiproxy's connection-level toxics, under Toxiproxy's names. */
export const connectionToxics: Readonly<Record<string, ToxicDefinition>> = {
  latency: latencyToxic,
  bandwidth: bandwidthToxic,
  slicer: slicerToxic,
  reset_peer: resetPeerToxic,
  timeout: timeoutToxic,
  limit_data: limitDataToxic,
};

/** The built-in toxics plus `extra` (message-level faults, for one); a built-in name cannot be replaced. */
export function createToxicCatalog(extra: Readonly<Record<string, ToxicDefinition>> = {}): ToxicCatalog {
  const catalog = new Map<string, ToxicDefinition>(Object.entries(connectionToxics));
  for (const [type, definition] of Object.entries(extra)) {
    if (catalog.has(type)) throw new Error(`toxic type "${type}" is built in and cannot be replaced`);
    catalog.set(type, definition);
  }
  return catalog;
}
