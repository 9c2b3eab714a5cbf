/** The CLI's way to the collector's query API: found through serve.json, authenticated with its token. */
import { FlotillaError, UsageError } from '../core/errors.js';
import { readServeState, userStateDir } from '../server/state-file.js';

export interface CollectorClient {
  readonly url: string;
  /** GETs `path` with `query` (undefined values left out) and returns the parsed JSON; API errors become FlotillaErrors. */
  get<T>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T>;
}

/** The running collector, or undefined when no `flotilla serve` runs for this user. */
export function findCollector(env: NodeJS.ProcessEnv = process.env): CollectorClient | undefined {
  const state = readServeState(userStateDir(env));
  if (!state) return undefined;
  return {
    url: state.url,
    async get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
      const url = new URL(path, state.url);
      for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
      let response: Response;
      try {
        response = await fetch(url, { headers: { authorization: `Bearer ${state.token}` }, signal: AbortSignal.timeout(30_000) });
      } catch (error) {
        throw new FlotillaError('COLLECTOR_UNREACHABLE', `the collector at ${state.url} did not answer: ${(error as Error).message}`, {
          hint: 'Is `flotilla serve` still running? Restart it.',
          cause: error,
        });
      }
      const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
      if (!response.ok) {
        const message = body.message ?? `the collector answered ${response.status}`;
        // A bad query is the user's input: exit 2 like any usage error.
        if (response.status === 400) throw new UsageError(message);
        throw new FlotillaError(body.error ?? `HTTP_${response.status}`, message);
      }
      return body as T;
    },
  };
}

/** The running collector, or an error saying how to start one. */
export function requireCollector(what: string): CollectorClient {
  const client = findCollector();
  if (client) return client;
  throw new FlotillaError('COLLECTOR_NOT_RUNNING', `${what} needs the collector, and no \`flotilla serve\` is running`, {
    hint: 'Start it in another terminal with `flotilla serve` (it listens on 127.0.0.1:4318), then run the services with `flotilla up`.',
  });
}
