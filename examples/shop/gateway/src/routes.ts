import { HttpError, type Reply, type Request, type Route } from '../../shared/http.js';

/** Where the gateway sends requests, and how long it waits for an answer. */
export interface GatewayConfig {
  ordersUrl: string;
  inventoryUrl: string;
  /** How long a service behind the gateway may take to answer (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Headers a client may send that the services behind the gateway read. */
const FORWARDED_REQUEST_HEADERS = ['idempotency-key'];
/** Headers of a service's answer that the client gets too. */
const FORWARDED_RESPONSE_HEADERS = ['location', 'idempotent-replayed'];

/** Passes a request on to a service and its answer back, status and body unchanged. */
async function forward(req: Request, target: string, timeoutMs: number, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = { 'x-request-id': req.requestId };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  // The timeout covers the whole answer, body included. Whether it fired is read from the
  // signal: the error says so in Node 20 (TimeoutError) but not always in Node 18 (AbortError).
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = (): HttpError => new HttpError(504, 'upstream_timeout', `${new URL(target).host} did not answer within ${timeoutMs} ms`);
  let response: Response;
  try {
    response = await fetch(target, {
      method: req.method,
      headers,
      signal,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    if (signal.aborted) throw timedOut();
    throw new HttpError(502, 'upstream_unreachable', `${new URL(target).host} is unreachable`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch {
    // The body can time out, or break off, after the headers came.
    if (signal.aborted) throw timedOut();
    throw new HttpError(502, 'upstream_unreachable', `${new URL(target).host} broke off its answer`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(502, 'upstream_invalid', `${new URL(target).host} answered ${response.status} without JSON`);
  }
  const replyHeaders: Record<string, string> = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) replyHeaders[name] = value;
  }
  return { status: response.status, body: parsed, headers: replyHeaders };
}

const segment = (value: string | undefined): string => encodeURIComponent(value ?? '');

/** The gateway's routes: `/orders` to the orders service, `/stock` to the inventory. */
export function gatewayRoutes(config: GatewayConfig): Route[] {
  const { ordersUrl, inventoryUrl } = config;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return [
    // Liveness of the gateway itself: the services behind it have their own health checks.
    { method: 'GET', path: '/health', traced: false, handler: () => ({ status: 200, body: { status: 'ok' } }) },
    { method: 'POST', path: '/orders', handler: async (req) => forward(req, `${ordersUrl}/orders`, timeoutMs, await req.json()) },
    { method: 'GET', path: '/orders/:id', handler: (req) => forward(req, `${ordersUrl}/orders/${segment(req.params['id'])}`, timeoutMs) },
    { method: 'GET', path: '/stock', handler: (req) => forward(req, `${inventoryUrl}/stock`, timeoutMs) },
    { method: 'GET', path: '/stock/:sku', handler: (req) => forward(req, `${inventoryUrl}/stock/${segment(req.params['sku'])}`, timeoutMs) },
  ];
}
