import { randomUUID } from 'node:crypto';
import { HttpError, type Reply, type Request, type Route } from '../../shared/http.js';
import { withRetries, type AttemptOutcome, type RetryPolicy } from '../../shared/retry.js';
import { judgeAudit, parseInventoryAudit, parseOrdersAudit } from './audit.js';

/** Where the gateway sends requests, and how long it waits for an answer. */
export interface GatewayConfig {
  ordersUrl: string;
  inventoryUrl: string;
  /** How long a service behind the gateway may take to answer one request (default 10 s). */
  timeoutMs?: number;
  /**
   * SHOP_IDEMPOTENCY (default true): `POST /orders` gets an Idempotency-Key when the client sent
   * none, and is retried with it. `false` is the broken variant: no key made, no retries.
   */
  idempotency?: boolean;
  /** How `POST /orders` is retried; ORDER_RETRY by default. */
  orderRetry?: RetryPolicy;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Retries of `POST /orders` whose answer was lost or that orders (or a proxy in front of it) could
 * not take: three attempts, 100 ms then 200 ms (less jitter) between them, all within 15 s.
 */
export const ORDER_RETRY: RetryPolicy = { attempts: 3, backoffMs: 100, totalMs: 15_000 };

/** Headers a client may send that the services behind the gateway read. */
const FORWARDED_REQUEST_HEADERS = ['idempotency-key'];
/** Headers of a service's answer that the client gets too. */
const FORWARDED_RESPONSE_HEADERS = ['location', 'idempotent-replayed'];
/** Statuses that say the service (or a proxy in front of it) could not do the work: worth another try. */
const UNAVAILABLE = new Set([502, 503, 504]);

/** A failure to get an answer from a service; `retryable` when the request may not have been done. */
class UpstreamError extends HttpError {
  constructor(status: number, code: string, message: string, readonly retryable: boolean) {
    super(status, code, message);
  }
}

/** Passes a request on to a service and its answer back, status and body unchanged. */
async function forward(req: Request, target: string, timeoutMs: number, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'x-request-id': req.requestId };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  Object.assign(headers, extraHeaders);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const host = new URL(target).host;
  // The timeout covers the whole answer, body included. Whether it fired is read from the
  // signal: the error says so in Node 20 (TimeoutError) but not always in Node 18 (AbortError).
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = (): HttpError => new UpstreamError(504, 'upstream_timeout', `${host} did not answer within ${timeoutMs} ms`, true);
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
    throw new UpstreamError(502, 'upstream_unreachable', `${host} is unreachable`, true);
  }
  let text: string;
  try {
    text = await response.text();
  } catch {
    // The body can time out, or break off, after the headers came.
    if (signal.aborted) throw timedOut();
    throw new UpstreamError(502, 'upstream_unreachable', `${host} broke off its answer`, true);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A proxy's own 502/503/504 comes as plain text: still a sign that the work was not done.
    throw new UpstreamError(502, 'upstream_invalid', `${host} answered ${response.status} without JSON`, UNAVAILABLE.has(response.status));
  }
  const replyHeaders: Record<string, string> = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) replyHeaders[name] = value;
  }
  return { status: response.status, body: parsed, headers: replyHeaders };
}

/** Whether an attempt at `POST /orders` is worth repeating with the same key. */
function retryableOrder(outcome: AttemptOutcome<Reply>): boolean {
  return outcome.ok ? UNAVAILABLE.has(outcome.value.status) : outcome.error instanceof UpstreamError && outcome.error.retryable;
}

/**
 * `POST /orders`: forwarded with the client's Idempotency-Key, or one made up here, and retried
 * with that same key while orders' answer is lost or says it could not do the work. Orders makes
 * the order id from the key, so however many attempts arrive, one order is stored and its stock
 * taken once. The key goes back to the client (header `idempotency-key`), also on failure, so the
 * client can retry with it too.
 */
async function placeOrder(req: Request, config: Required<GatewayConfig>): Promise<Reply> {
  const body = await req.json();
  const target = `${config.ordersUrl}/orders`;
  if (!config.idempotency) return forward(req, target, config.timeoutMs, body);
  const given = req.headers['idempotency-key'];
  const key = typeof given === 'string' ? given : randomUUID();
  const headers = { 'idempotency-key': key };
  try {
    const reply = await withRetries(
      config.orderRetry,
      (_attempt, remainingMs) => forward(req, target, Math.min(config.timeoutMs, remainingMs), body, headers),
      { retryable: retryableOrder },
    );
    return { ...reply, headers: { ...reply.headers, ...headers } };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, body: { error: error.code, message: error.message, ...error.details }, headers };
  }
}

/** `GET /audit`: the inventory's stock and reservations against the orders stored since it started. */
async function audit(req: Request, config: Required<GatewayConfig>): Promise<Reply> {
  const fetchAudit = async (target: string): Promise<unknown> => {
    const reply = await forward(req, target, config.timeoutMs);
    if (reply.status !== 200) throw new HttpError(502, 'upstream_error', `${new URL(target).host} answered GET /audit with ${reply.status}`);
    return reply.body;
  };
  // The inventory first: its stock lives in memory, so orders are counted from its start.
  const inventory = parseInventoryAudit(await fetchAudit(`${config.inventoryUrl}/audit`));
  const orders = parseOrdersAudit(await fetchAudit(`${config.ordersUrl}/audit?since=${encodeURIComponent(inventory.startedAt)}`));
  return { status: 200, body: judgeAudit(orders, inventory) };
}

const segment = (value: string | undefined): string => encodeURIComponent(value ?? '');

/** The gateway's routes: `/orders` to the orders service, `/stock` to the inventory, `/audit` to both. */
export function gatewayRoutes(config: GatewayConfig): Route[] {
  const resolved: Required<GatewayConfig> = {
    ordersUrl: config.ordersUrl,
    inventoryUrl: config.inventoryUrl,
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    idempotency: config.idempotency ?? true,
    orderRetry: config.orderRetry ?? ORDER_RETRY,
  };
  const { ordersUrl, inventoryUrl, timeoutMs } = resolved;
  return [
    // Liveness of the gateway itself: the services behind it have their own health checks.
    { method: 'GET', path: '/health', traced: false, handler: () => ({ status: 200, body: { status: 'ok' } }) },
    { method: 'POST', path: '/orders', handler: (req) => placeOrder(req, resolved) },
    { method: 'GET', path: '/orders/:id', handler: (req) => forward(req, `${ordersUrl}/orders/${segment(req.params['id'])}`, timeoutMs) },
    { method: 'GET', path: '/stock', handler: (req) => forward(req, `${inventoryUrl}/stock`, timeoutMs) },
    { method: 'GET', path: '/stock/:sku', handler: (req) => forward(req, `${inventoryUrl}/stock/${segment(req.params['sku'])}`, timeoutMs) },
    // For checks and experiments, polled often: untraced like the health check.
    { method: 'GET', path: '/audit', traced: false, handler: (req) => audit(req, resolved) },
  ];
}
