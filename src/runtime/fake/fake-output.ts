/**
 * What the fake driver's containers print, and the events they raise: kept as the Engine keeps
 * them (every line with its stream and time, in order), so log readers can be tested for `since`,
 * following, and restarts without a Docker Engine.
 */
import type { ContainerEvent, ContainerEventOptions, LogLine, LogOptions } from '../driver.js';

/** One line as the fake keeps it. */
export interface FakeLogEntry {
  stream: 'stdout' | 'stderr';
  text: string;
  /** Unix nanoseconds. */
  timeNs: bigint;
}

/** The fake clock starts here and ticks one microsecond per line, unless a test gives a time. */
const START_NS = 1_700_000_000_000_000_000n;

/** Lines per container and the event stream, with wake-ups for followers and subscribers. */
export class FakeOutput {
  private readonly lines = new Map<string, FakeLogEntry[]>();
  private readonly waiters = new Set<() => void>();
  private readonly subscribers = new Set<(event: ContainerEvent | undefined) => void>();
  private clockNs = START_NS;

  /** Appends a line to a container's output; `timeNs` defaults to the fake clock's next tick. */
  write(id: string, text: string, options: { stream?: 'stdout' | 'stderr'; timeNs?: bigint } = {}): void {
    this.clockNs = options.timeNs ?? this.clockNs + 1_000n;
    const entries = this.lines.get(id) ?? [];
    entries.push({ stream: options.stream ?? 'stdout', text, timeNs: this.clockNs });
    this.lines.set(id, entries);
    this.wake();
  }

  /** Everything container `id` printed. */
  entries(id: string): readonly FakeLogEntry[] {
    return this.lines.get(id) ?? [];
  }

  /** Raises an event for every subscriber, and lets followers re-check their container. */
  emit(event: ContainerEvent): void {
    for (const subscriber of this.subscribers) subscriber(event);
    this.wake();
  }

  /** Ends every event stream, as an Engine restart does. */
  closeEventStreams(): void {
    for (const subscriber of this.subscribers) subscriber(undefined);
  }

  /** Reads a container's lines as the Engine would: `since` inclusive, `tail`, then new lines while `running()` and following. */
  async *read(id: string, options: LogOptions, running: () => boolean): AsyncGenerator<LogLine> {
    const since = sinceNs(options.since);
    let next = 0;
    const all = this.entries(id);
    if (options.tail !== undefined) next = Math.max(0, all.length - options.tail);
    for (;;) {
      const entries = this.entries(id);
      for (; next < entries.length; next++) {
        const entry = entries[next] as FakeLogEntry;
        if (since !== undefined && entry.timeNs < since) continue;
        yield lineOf(entry, options);
      }
      if (!options.follow || options.signal?.aborted || !running()) return;
      await this.nextChange(options.signal);
    }
  }

  /** Events as they are emitted, until the signal aborts or closeEventStreams. */
  async *events(options: ContainerEventOptions): AsyncGenerator<ContainerEvent> {
    const queue: (ContainerEvent | undefined)[] = [];
    let notify: (() => void) | undefined;
    const subscriber = (event: ContainerEvent | undefined): void => {
      queue.push(event);
      notify?.();
    };
    const onAbort = (): void => notify?.();
    this.subscribers.add(subscriber);
    options.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (options.signal.aborted) return;
        if (queue.length === 0) await new Promise<void>((resolve) => (notify = resolve));
        while (queue.length > 0) {
          const event = queue.shift();
          if (event === undefined) return;
          if (options.signal.aborted) return;
          yield event;
        }
      }
    } finally {
      this.subscribers.delete(subscriber);
      options.signal.removeEventListener('abort', onAbort);
    }
  }

  private wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiting) resolve();
  }

  private nextChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

function lineOf(entry: FakeLogEntry, options: LogOptions): LogLine {
  const time = rfc3339Nano(entry.timeNs);
  const text = options.timestamps ? `${time} ${entry.text}` : entry.text;
  return options.lineTimes ? { stream: entry.stream, text, time } : { stream: entry.stream, text };
}

function sinceNs(since: number | string | undefined): bigint | undefined {
  if (since === undefined) return undefined;
  const [seconds = '0', fraction = ''] = String(since).split('.');
  return BigInt(seconds) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
}

/** The Engine's fixed-width form: `2023-11-14T22:13:20.000001000Z`. */
function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}
