/** One HTTP request as probes and the load send it, with a timeout, its failures classified. */
import { parseDuration } from '../spec/duration.js';
import type { HttpRequestSpec } from '../spec/types.js';
import type { HttpOutcome } from './expectations.js';

/** How much of a body is kept: enough to look for text or compare JSON, never a whole download. */
const MAX_BODY = 1024 * 1024;

/** Sends `request`; never throws: a failure is an outcome (`timeout`, `refused`, `reset`, `error`). */
export async function sendHttp(request: HttpRequestSpec, signal?: AbortSignal): Promise<HttpOutcome> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(parseDuration(request.timeout));
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined && { body: request.body }),
      signal: combined,
      redirect: 'manual',
    });
    const body = await readCapped(response);
    return { status: response.status, body, ms: performance.now() - started };
  } catch (error) {
    const reason = timeout.aborted ? 'timeout' : classify(error);
    const message = reason === 'timeout' ? `no answer within ${request.timeout}` : describe(error);
    return { error: message, reason, ms: performance.now() - started };
  }
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk));
    size += chunk.byteLength;
    // Enough to judge; leaving the loop cancels the rest of the download.
    if (size >= MAX_BODY) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8');
}

/** `refused`, `reset`, `timeout` or `error`, from fetch's error and its cause. */
export function classify(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code ?? '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'reset';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || (error as Error).name === 'TimeoutError') return 'timeout';
  return 'error';
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
