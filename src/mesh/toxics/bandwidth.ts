/** `bandwidth`: caps the rate at `rate` KB/s (Toxiproxy's BandwidthToxic). */
import * as z from 'zod';
import { defineConnectionToxic } from './types.js';

const attributes = z.strictObject({
  /** KB/s (1 KB = 1000 bytes, as Toxiproxy counts); 0 means no limit. */
  rate: z.number().int().nonnegative().default(0),
});

/** Bandwidth attributes. */
export type BandwidthAttributes = z.output<typeof attributes>;

/** Time owed on this link, carried between chunks so timer overshoot is paid back. */
interface BandwidthState {
  owedMs: number;
}

/** Limits throughput; large chunks are sent in 100 ms slices so the stream stays smooth. */
export const bandwidthToxic = defineConnectionToxic<BandwidthAttributes, BandwidthState>({
  level: 'connection',
  attributes,
  newState: () => ({ owedMs: 0 }),
  start(context) {
    context.state.owedMs = 0;
    return undefined;
  },
  async pipe(chunk, context, emit) {
    const { rate } = context.attributes;
    if (rate <= 0) {
      await emit(chunk);
      return;
    }
    const state = context.state;
    // rate KB/s = rate bytes/ms.
    state.owedMs += chunk.data.length / rate;
    let data = chunk.data;
    const slice = rate * 100;
    while (data.length > slice) {
      if (!(await context.sleep(100))) {
        await emit({ data, ts: chunk.ts }); // interrupted: don't drop data on the floor
        return;
      }
      await emit({ data: data.subarray(0, slice), ts: chunk.ts });
      data = data.subarray(slice);
      state.owedMs -= 100;
    }
    const started = performance.now();
    const completed = state.owedMs > 0 ? await context.sleep(state.owedMs) : true;
    // Timers fire late; subtract what was really slept so the average rate holds.
    state.owedMs -= performance.now() - started;
    if (!completed) state.owedMs = 0;
    await emit({ data, ts: chunk.ts });
  },
});
