/** `timeout`: lets nothing through and closes the connection after `timeout` ms; 0 never closes (Toxiproxy's TimeoutToxic). */
import * as z from 'zod';
import { defineConnectionToxic } from './types.js';

const attributes = z.strictObject({
  /** Milliseconds before the connection is closed; 0 keeps it open, silent, until the toxic is removed. */
  timeout: z.number().int().nonnegative().default(0),
});

/** timeout attributes. */
export type TimeoutAttributes = z.output<typeof attributes>;

/**
 * Drops every chunk. The clock starts when the toxic starts on the link. Removing the toxic closes
 * the connection (Toxiproxy's Cleanup does the same): bytes were dropped, so the stream is no longer whole.
 */
export const timeoutToxic = defineConnectionToxic<TimeoutAttributes>({
  level: 'connection',
  attributes,
  start(context) {
    if (context.attributes.timeout <= 0) return undefined;
    const timer = setTimeout(() => context.close(), context.attributes.timeout);
    return () => clearTimeout(timer);
  },
  pipe() {
    // Dropped on the floor.
  },
  cleanup(context) {
    context.close();
  },
});
