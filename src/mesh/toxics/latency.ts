/** `latency`: every chunk leaves `latency` ± `jitter` ms after it arrived (Toxiproxy's LatencyToxic). */
import * as z from 'zod';
import { defineConnectionToxic } from './types.js';

const attributes = z.strictObject({
  /** Milliseconds. */
  latency: z.number().int().nonnegative().default(0),
  /** Milliseconds, ± around `latency`. */
  jitter: z.number().int().nonnegative().default(0),
});

/** Latency attributes. */
export type LatencyAttributes = z.output<typeof attributes>;

/** Delays data by latency ± jitter, measured from arrival so a burst is not delayed once per chunk. */
export const latencyToxic = defineConnectionToxic<LatencyAttributes>({
  level: 'connection',
  attributes,
  async pipe(chunk, context, emit) {
    const { latency, jitter } = context.attributes;
    // Toxiproxy: delay = latency + rand[-jitter, jitter), minus the time already spent since arrival.
    const delay = jitter > 0 ? latency + Math.floor(context.random() * jitter * 2) - jitter : latency;
    const sleep = delay - (performance.now() - chunk.ts);
    // Interrupted (removed or updated): hand the chunk on at once, as Toxiproxy does.
    const completed = sleep > 0 ? await context.sleep(sleep) : true;
    // The chunk "arrives" at the next toxic when it left this one, so chained latencies add up.
    await emit({ data: chunk.data, ts: completed ? chunk.ts + delay : chunk.ts });
  },
});
