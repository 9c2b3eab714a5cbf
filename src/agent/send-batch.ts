/**
 * One POST of an encoded ExportLogsServiceRequest, and what its answer means for the batch,
 * as the OTLP/HTTP specification says: 2xx is an acknowledgement (maybe partial), 429 and 503
 * come with the wait the server wants, 413 asks for smaller batches, other 5xx and network
 * failures are retried, and the remaining 4xx refuse the batch for good — except 401, 403 and
 * 404, which say the endpoint or its credentials are wrong: fixing the configuration must not
 * cost the queue, so those are retried too.
 */
import { decodeExportResponse } from '../telemetry/otlp/index.js';
import { retryAfterMs } from './backoff.js';

/** What to do with a batch after one attempt. */
export type SendOutcome =
  | { kind: 'accepted'; rejected: number; message: string }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'too-large' }
  | { kind: 'retry'; reason: string; afterMs?: number };

/** Bytes of a response body read at most: an answer is a small message, whatever the server sends. */
const MAX_RESPONSE_BYTES = 64 * 1024;
const RETRIED_4XX = new Set([401, 403, 404, 408, 429]);

/** Sends `body` to `url` (…/v1/logs) and classifies the answer. */
export async function sendBatch(url: string, body: Buffer, options: { timeoutMs: number; signal: AbortSignal; headers: Record<string, string> }): Promise<SendOutcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { ...options.headers, 'content-type': 'application/x-protobuf' },
      body,
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
  } catch (error) {
    return { kind: 'retry', reason: networkReason(error) };
  }
  let answer: Buffer;
  try {
    answer = await readCapped(response);
  } catch (error) {
    if (response.ok) return { kind: 'accepted', rejected: 0, message: '' };
    return { kind: 'retry', reason: networkReason(error) };
  }
  const status = response.status;
  const contentType = response.headers.get('content-type') ?? '';
  if (status >= 200 && status < 300) {
    const partial = decodeExportResponse('logs', answer, contentType);
    return { kind: 'accepted', rejected: partial.rejected, message: partial.errorMessage };
  }
  const message = `HTTP ${status}${describe(answer, contentType)}`;
  if (status === 413) return { kind: 'too-large' };
  const afterMs = status === 429 || status === 503 ? retryAfterMs(response.headers.get('retry-after')) : undefined;
  if (status >= 500 || RETRIED_4XX.has(status)) return { kind: 'retry', reason: message, ...(afterMs !== undefined && { afterMs }) };
  return { kind: 'refused', status, message };
}

async function readCapped(response: Response): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      size += value.length;
      if (size >= MAX_RESPONSE_BYTES) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES);
}

/** A short readable excerpt of an error answer, when it is text. */
function describe(answer: Buffer, contentType: string): string {
  if (answer.length === 0 || !/json|text/i.test(contentType)) return '';
  const text = answer.toString('utf8').replace(/\s+/g, ' ').trim();
  return text ? `: ${text.slice(0, 200)}` : '';
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if ((error as { name?: unknown }).name === 'TimeoutError') return 'no answer in time';
  return error instanceof Error ? error.message : String(error);
}
