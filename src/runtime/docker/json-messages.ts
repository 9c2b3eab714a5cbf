/**
 * The Engine's progress streams (pull, build): one JSON message per line. Read line by line,
 * tolerant of chunk boundaries and of non-JSON lines (proxies, old engines), with an optional
 * idle timeout so a stalled registry cannot hang a pull forever.
 */
import { StringDecoder } from 'node:string_decoder';

/** One message of a pull or build stream. */
export interface JsonMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** Human lines for one message (a build `stream` message can hold several). */
export function messageLines(message: JsonMessage): string[] {
  if (message.stream !== undefined) {
    return message.stream
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line.length > 0);
  }
  if (message.status !== undefined) {
    const id = message.id ? `${message.id}: ` : '';
    const progress = message.progress ? ` ${message.progress}` : '';
    return [`${id}${message.status}${progress}`];
  }
  const error = errorOf(message);
  return error === undefined ? [] : [error];
}

/** The failure a message reports, if any. */
export function errorOf(message: JsonMessage): string | undefined {
  return message.errorDetail?.message ?? message.error;
}

/** Options for readJsonMessages. */
export interface ReadOptions {
  /** Fails with `onIdle()`'s error when no byte arrives for this long. */
  idleTimeoutMs?: number;
  onIdle?: () => Error;
}

/** Calls `onMessage` for every message of `stream`; resolves at its end. */
export async function readJsonMessages(
  stream: NodeJS.ReadableStream,
  onMessage: (message: JsonMessage) => void,
  options: ReadOptions = {},
): Promise<void> {
  let pending = '';
  const decoder = new StringDecoder('utf8');
  const handle = (line: string): void => {
    const text = line.trim();
    if (!text) return;
    try {
      onMessage(JSON.parse(text) as JsonMessage);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      onMessage({ stream: text });
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const { idleTimeoutMs, onIdle } = options;
    if (idleTimeoutMs === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => destroy(stream, onIdle?.() ?? new Error(`no progress for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  };
  try {
    arm();
    for await (const chunk of stream) {
      arm();
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      let at: number;
      while ((at = pending.indexOf('\n')) !== -1) {
        handle(pending.slice(0, at));
        pending = pending.slice(at + 1);
      }
    }
    handle(pending + decoder.end());
  } finally {
    clearTimeout(timer);
  }
}

function destroy(stream: NodeJS.ReadableStream, error: Error): void {
  const destroyable = stream as { destroy?: (error: Error) => void };
  destroyable.destroy?.(error);
}
