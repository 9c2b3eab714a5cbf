/** `limit_data`: passes `bytes` bytes, then closes the connection (Toxiproxy's LimitDataToxic). */
import * as z from 'zod';
import { defineConnectionToxic } from './types.js';

const attributes = z.strictObject({
  /** Bytes to let through in this direction before the connection is closed. */
  bytes: z.number().int().nonnegative().default(0),
});

/** limit_data attributes. */
export type LimitDataAttributes = z.output<typeof attributes>;

/** Bytes already passed on this link; kept across updates of the toxic. */
interface LimitDataState {
  transmitted: number;
}

/** Truncates the stream at `bytes` and closes; the peer receives exactly that many bytes, then FIN. */
export const limitDataToxic = defineConnectionToxic<LimitDataAttributes, LimitDataState>({
  level: 'connection',
  attributes,
  newState: () => ({ transmitted: 0 }),
  async pipe(chunk, context, emit) {
    const state = context.state;
    const remaining = Math.max(context.attributes.bytes - state.transmitted, 0);
    const data = remaining < chunk.data.length ? chunk.data.subarray(0, remaining) : chunk.data;
    if (data.length > 0) {
      state.transmitted += data.length;
      await emit({ data, ts: chunk.ts });
    }
    if (context.attributes.bytes - state.transmitted <= 0) context.close();
  },
});
