/** `slicer`: cuts data into small packets of about `average_size` bytes, `delay` µs apart (Toxiproxy's SlicerToxic). */
import * as z from 'zod';
import { defineConnectionToxic } from './types.js';

const attributes = z
  .strictObject({
    /** Bytes per slice, on average. Required: Toxiproxy's zero default cannot slice anything. */
    average_size: z.number().int().positive(),
    /** ± bytes around the average; smaller than `average_size`. */
    size_variation: z.number().int().nonnegative().default(0),
    /** Microseconds between slices. */
    delay: z.number().int().nonnegative().default(0),
  })
  .refine((value) => value.size_variation < value.average_size, {
    message: 'size_variation must be smaller than average_size',
    path: ['size_variation'],
  });

/** Slicer attributes. */
export type SlicerAttributes = z.output<typeof attributes>;

/** Pacing carried between slices: when the next slice is due, in ms (performance.now()). */
interface SlicerState {
  dueMs: number;
}

/**
 * Offsets that cut [start, end) into slices: halves recursively, each cut moved by ±variation,
 * until a piece is within variation of the average (Toxiproxy's algorithm, iterative here).
 */
export function sliceOffsets(length: number, averageSize: number, sizeVariation: number, random: () => number): number[] {
  const cuts: number[] = [0];
  const pending: Array<[number, number]> = [[0, length]];
  // Depth-first, left before right, so cuts come out in order.
  while (pending.length > 0) {
    const [start, end] = pending.pop() ?? [0, 0];
    if (end - start - averageSize <= sizeVariation) {
      cuts.push(end);
      continue;
    }
    const shift = sizeVariation > 0 ? Math.floor(random() * sizeVariation * 2) - sizeVariation : 0;
    const mid = Math.min(end - 1, Math.max(start + 1, start + Math.floor((end - start) / 2) + shift));
    pending.push([mid, end], [start, mid]);
  }
  return cuts;
}

/**
 * Slices each chunk and paces the slices `delay` µs apart. Node's timers have 1 ms resolution, so
 * sub-millisecond delays are accrued and slept once they add up to a millisecond: the average
 * pacing is right, and every slice is still its own socket write.
 */
export const slicerToxic = defineConnectionToxic<SlicerAttributes, SlicerState>({
  level: 'connection',
  attributes,
  newState: () => ({ dueMs: 0 }),
  async pipe(chunk, context, emit) {
    const { average_size: averageSize, size_variation: sizeVariation, delay } = context.attributes;
    const cuts = sliceOffsets(chunk.data.length, averageSize, sizeVariation, () => context.random());
    const state = context.state;
    for (let i = 1; i < cuts.length; i++) {
      await emit({ data: chunk.data.subarray(cuts[i - 1], cuts[i]), ts: chunk.ts });
      if (delay <= 0) continue;
      const now = performance.now();
      state.dueMs = Math.max(state.dueMs, now) + delay / 1000;
      const wait = state.dueMs - now;
      let completed = true;
      if (wait >= 1) completed = await context.sleep(wait);
      else await new Promise<void>((resolve) => setImmediate(resolve));
      if (!completed || context.signal.aborted) {
        // Interrupted: the rest goes on in one piece.
        if (i + 1 < cuts.length) await emit({ data: chunk.data.subarray(cuts[i]), ts: chunk.ts });
        return;
      }
    }
  },
});
