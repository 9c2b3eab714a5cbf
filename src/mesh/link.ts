/**
 * One direction of one proxied connection: bytes read from `source`, passed through the active
 * toxics of that direction, written to `dest`. See NOTES.md for why it is one ordered pump per
 * link rather than a chain of streams.
 *
 * - Fast path: with no active toxic and nothing queued, a chunk is written straight to `dest`
 *   (pipe semantics: pause the source when `dest` is full, resume on drain).
 * - Toxic path: chunks are stamped with their arrival time and queued (bounded by `bufferBytes`;
 *   the source is paused above it); one pump takes them in order through the toxics and writes them.
 * - Changes to toxics arrive synchronously from the ToxicCollection and only affect chunks not yet
 *   handed to a toxic; a toxic holding a chunk (sleeping) is interrupted and hands it on at once.
 */
import type { Socket } from 'node:net';
import type { Toxic, ToxicListener } from './toxic-collection.js';
import type { Chunk, ConnectionToxic, StreamDirection, ToxicContext } from './toxics/types.js';

/** What a link may do to its whole connection. */
export interface LinkControls {
  /** End both sides gracefully after pending writes. */
  close(): void;
  /** Reset both sides. */
  reset(): void;
  /** Destroy both sides because something failed. */
  fail(error: unknown): void;
}

/** How a link is set up. */
export interface LinkOptions {
  direction: StreamDirection;
  source: Socket;
  dest: Socket;
  /** The direction's chain when the connection starts. */
  toxics: readonly Toxic[];
  /** Bytes queued ahead of the toxics before the source is paused. */
  bufferBytes: number;
  random: () => number;
  controls: LinkControls;
}

/** A toxic attached to this link: its per-link state, its toxicity roll, its current run. */
interface Instance {
  toxic: Toxic;
  definition: ConnectionToxic<unknown, unknown>;
  state: unknown;
  active: boolean;
  controller: AbortController;
  context: ToxicContext<unknown, unknown>;
  dispose: (() => void) | undefined;
  removed: boolean;
}

const END = Symbol('end of stream');

/**
 * Sleeps at least `ms` of real time; resolves false early if `signal` aborts. Node's timers count
 * from the event loop's cached clock, which lags on a busy loop, so one timer can fire early: the
 * remainder is slept again, so a toxic never delays less than it says.
 */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  const deadline = performance.now() + ms;
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout;
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const wake = (): void => {
      const remaining = deadline - performance.now();
      if (remaining > 0) {
        timer = setTimeout(wake, Math.ceil(remaining));
        return;
      }
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    };
    timer = setTimeout(wake, Math.ceil(ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One direction of a connection with its toxic chain. */
export class Link implements ToxicListener {
  readonly direction: StreamDirection;
  /** Bytes read from the source. */
  received = 0;
  /** Bytes handed to the destination socket. */
  sent = 0;

  private readonly source: Socket;
  private readonly dest: Socket;
  private readonly bufferBytes: number;
  private readonly random: () => number;
  private readonly controls: LinkControls;
  private readonly initial: readonly Toxic[];
  private instances: Instance[] = [];
  private activeCount = 0;
  private queue: Array<Chunk | typeof END> = [];
  private queuedBytes = 0;
  /** The pump is running: new data must queue behind it to keep order. */
  private busy = false;
  /** The fast path wrote into a full destination; wait for drain. */
  private blocked = false;
  private stopped = false;
  private drainWaiter: (() => void) | undefined;

  constructor(options: LinkOptions) {
    this.direction = options.direction;
    this.source = options.source;
    this.dest = options.dest;
    this.bufferBytes = options.bufferBytes;
    this.random = options.random;
    this.controls = options.controls;
    this.initial = [...options.toxics];
  }

  /** Attaches the initial toxics and starts reading. */
  start(): void {
    for (const toxic of this.initial) this.attach(toxic);
    this.dest.on('drain', this.onDrain);
    this.dest.on('close', this.onDrain);
    this.source.on('end', this.onEnd);
    this.source.on('data', this.onData);
  }

  /** Stops moving data and interrupts every toxic; the connection is going away. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.queuedBytes = 0;
    for (const instance of this.instances) this.interrupt(instance);
    this.source.off('data', this.onData);
    this.releaseDrainWaiter();
  }

  /** Number of toxics currently applying on this link (after toxicity rolls). */
  get activeToxics(): number {
    return this.activeCount;
  }

  /** Bytes waiting ahead of the toxics. */
  get queued(): number {
    return this.queuedBytes;
  }

  toxicAdded(toxic: Toxic): void {
    if (toxic.stream === this.direction && !this.stopped) this.attach(toxic);
  }

  toxicUpdated(toxic: Toxic): void {
    const instance = this.instances.find((candidate) => candidate.toxic.name === toxic.name);
    if (!instance || this.stopped) return;
    // Toxiproxy restarts the toxic's run: what it held goes on at once, toxicity is rolled again.
    this.interrupt(instance);
    if (instance.active) this.activeCount--;
    instance.toxic = toxic;
    this.run(instance);
  }

  toxicRemoved(toxic: Toxic): void {
    const index = this.instances.findIndex((candidate) => candidate.toxic.name === toxic.name);
    const instance = this.instances[index];
    if (!instance) return;
    this.instances.splice(index, 1);
    instance.removed = true;
    this.interrupt(instance);
    if (instance.active) {
      this.activeCount--;
      if (!this.stopped) instance.definition.cleanup?.(instance.context);
    }
  }

  private attach(toxic: Toxic): void {
    // Message-level toxics belong to the HTTP proxy; a byte stream cannot apply them.
    if (toxic.definition.level !== 'connection') return;
    const definition = toxic.definition;
    const controller = new AbortController();
    const instance: Instance = {
      toxic,
      definition,
      state: definition.newState?.(),
      active: false,
      controller,
      context: this.contextFor(toxic, undefined, controller.signal),
      dispose: undefined,
      removed: false,
    };
    this.instances.push(instance);
    this.run(instance);
  }

  /** Starts (or restarts) a toxic's run on this link: rolls toxicity, as Toxiproxy does per run. */
  private run(instance: Instance): void {
    instance.controller = new AbortController();
    instance.context = this.contextFor(instance.toxic, instance.state, instance.controller.signal);
    instance.active = this.random() < instance.toxic.toxicity;
    if (!instance.active) return;
    this.activeCount++;
    instance.dispose = instance.definition.start?.(instance.context);
  }

  private interrupt(instance: Instance): void {
    instance.controller.abort();
    instance.dispose?.();
    instance.dispose = undefined;
  }

  private contextFor(toxic: Toxic, state: unknown, signal: AbortSignal): ToxicContext<unknown, unknown> {
    return {
      attributes: toxic.attributes,
      state,
      signal,
      sleep: (ms) => abortableSleep(ms, signal),
      close: () => this.controls.close(),
      reset: () => this.controls.reset(),
      random: this.random,
    };
  }

  private readonly onData = (data: Buffer): void => {
    this.received += data.length;
    if (this.activeCount === 0 && !this.busy) {
      this.sent += data.length;
      if (!this.dest.write(data)) {
        this.blocked = true;
        this.updateFlow();
      }
      return;
    }
    this.queue.push({ data, ts: performance.now() });
    this.queuedBytes += data.length;
    this.updateFlow();
    if (!this.busy) void this.pump();
  };

  private readonly onEnd = (): void => {
    if (this.stopped) return;
    if (this.activeCount === 0 && !this.busy) {
      this.endDest();
      return;
    }
    this.queue.push(END);
    if (!this.busy) void this.pump();
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    this.updateFlow();
    this.releaseDrainWaiter();
  };

  private releaseDrainWaiter(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.();
  }

  /** The source reads only while the destination keeps up and the queue is under its bound. */
  private updateFlow(): void {
    if (this.stopped) return;
    const pause = this.blocked || this.queuedBytes >= this.bufferBytes;
    if (pause && !this.source.isPaused()) this.source.pause();
    else if (!pause && this.source.isPaused()) this.source.resume();
  }

  private endDest(): void {
    if (!this.dest.destroyed && !this.dest.writableEnded) this.dest.end();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (!this.stopped) {
        const item = this.queue.shift();
        if (item === undefined) break;
        if (item === END) {
          await this.endThroughChain();
          continue;
        }
        this.queuedBytes -= item.data.length;
        this.updateFlow();
        await this.through(item, 0, this.instances.slice());
      }
    } catch (error) {
      this.controls.fail(error);
    } finally {
      this.busy = false;
    }
  }

  /** Hands a chunk to the first live, active toxic at or after `from` in `chain`, or writes it. */
  private async through(chunk: Chunk, from: number, chain: readonly Instance[]): Promise<void> {
    for (let index = from; index < chain.length; index++) {
      const instance = chain[index];
      if (!instance || instance.removed || !instance.active) continue;
      if (this.stopped) return;
      await instance.definition.pipe(chunk, instance.context, (next) => this.through(next, index + 1, chain));
      return;
    }
    await this.write(chunk.data);
  }

  private async endThroughChain(): Promise<void> {
    for (const instance of this.instances.slice()) {
      if (this.stopped) return;
      if (instance.removed || !instance.active || !instance.definition.end) continue;
      await instance.definition.end(instance.context);
    }
    if (!this.stopped) this.endDest();
  }

  private async write(data: Buffer): Promise<void> {
    if (this.stopped || this.dest.destroyed || this.dest.writableEnded) return;
    this.sent += data.length;
    if (this.dest.write(data)) return;
    await new Promise<void>((resolve) => {
      this.drainWaiter = resolve;
    });
  }
}
