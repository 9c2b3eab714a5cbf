/**
 * The Engine's event stream, narrowed to what follows containers: start, die and destroy of
 * containers carrying the project label. One JSON object per line; lines that are not a container
 * event of that shape are skipped (the stream is shared with other event kinds on old engines).
 */
import { StringDecoder } from 'node:string_decoder';
import type Dockerode from 'dockerode';
import type { ContainerEvent, ContainerEventAction, ContainerEventOptions } from '../driver.js';
import { Label } from '../labels.js';
import type { DockerClient } from './client.js';

const ACTIONS: readonly ContainerEventAction[] = ['start', 'die', 'destroy'];

/** Container events until `options.signal` aborts or the Engine closes the stream. */
export async function* readContainerEvents(client: DockerClient, options: ContainerEventOptions): AsyncGenerator<ContainerEvent> {
  const { signal } = options;
  if (signal.aborted) return;
  const action = 'follow the Engine’s container events';
  const query: Dockerode.GetEventsOptions = {
    filters: { type: ['container'], event: [...ACTIONS], label: [Label.project] },
    ...(options.since !== undefined && { since: Math.floor(options.since) }),
  };
  // dockerode passes an abort signal through at run time; its typings omit it.
  const getEvents = client.docker.getEvents.bind(client.docker) as unknown as (
    options: Dockerode.GetEventsOptions & { abortSignal: AbortSignal },
  ) => Promise<NodeJS.ReadableStream>;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await getEvents({ ...query, abortSignal: signal });
  } catch (error) {
    if (signal.aborted) return;
    throw client.fail(error, action);
  }
  const decoder = new StringDecoder('utf8');
  let pending = '';
  try {
    for await (const chunk of stream) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      let at: number;
      while ((at = pending.indexOf('\n')) !== -1) {
        const event = containerEventOf(pending.slice(0, at));
        pending = pending.slice(at + 1);
        if (event) yield event;
      }
    }
  } catch (error) {
    // Aborting tears the connection down; that ends the stream, it is not a failure.
    if (signal.aborted) return;
    throw client.fail(error, action);
  } finally {
    (stream as { destroy?: () => void }).destroy?.();
  }
}

/** One event line, or undefined when it is not a container event this stream reports. */
export function containerEventOf(line: string): ContainerEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { Type, Action, Actor } = parsed as { Type?: unknown; Action?: unknown; Actor?: { ID?: unknown; Attributes?: unknown } };
  if (Type !== 'container' || typeof Action !== 'string' || typeof Actor?.ID !== 'string') return undefined;
  const known = ACTIONS.find((candidate) => candidate === Action);
  if (!known) return undefined;
  const attributes = typeof Actor.Attributes === 'object' && Actor.Attributes !== null ? (Actor.Attributes as Record<string, unknown>) : {};
  const labels = Object.fromEntries(Object.entries(attributes).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  return { action: known, id: Actor.ID, labels };
}
