/** `reset_peer`: on the first data (or end of stream), waits `timeout` ms and resets the connection (Toxiproxy's ResetToxic). */
import * as z from 'zod';
import { defineConnectionToxic } from './types.js';

const attributes = z.strictObject({
  /** Milliseconds to wait before the reset; 0 resets at once. */
  timeout: z.number().int().nonnegative().default(0),
});

/** reset_peer attributes. */
export type ResetPeerAttributes = z.output<typeof attributes>;

/** Drops the data that triggered it and sends TCP RST to both peers ("connection reset by peer"). */
export const resetPeerToxic = defineConnectionToxic<ResetPeerAttributes>({
  level: 'connection',
  attributes,
  async pipe(chunk, context, emit) {
    if (await context.sleep(context.attributes.timeout)) {
      context.reset();
      return;
    }
    // Removed before it fired: the chunk it held goes on, nothing is lost.
    await emit(chunk);
  },
  async end(context) {
    if (await context.sleep(context.attributes.timeout)) context.reset();
  },
});
