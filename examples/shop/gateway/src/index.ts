import { HttpError, startService, type Reply, type Request } from '../../shared/http.js';
import { parsePort } from '../../shared/validate.js';

const SERVICE = 'gateway';
const ordersUrl = process.env['ORDERS_URL'] ?? 'http://orders:3000';
const inventoryUrl = process.env['INVENTORY_URL'] ?? 'http://inventory:3000';
const TIMEOUT_MS = 10_000;

/** Headers a client may send that the services behind the gateway read. */
const FORWARDED_REQUEST_HEADERS = ['idempotency-key'];
/** Headers of a service's answer that the client gets too. */
const FORWARDED_RESPONSE_HEADERS = ['location', 'idempotent-replayed'];

/** Passes a request on to a service and its answer back, status and body unchanged. */
async function forward(req: Request, target: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = { 'x-request-id': req.requestId };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(target, {
      method: req.method,
      headers,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new HttpError(504, 'upstream_timeout', `${new URL(target).host} did not answer within ${TIMEOUT_MS} ms`);
    }
    throw new HttpError(502, 'upstream_unreachable', `${new URL(target).host} is unreachable`);
  }
  const text = await response.text();
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

startService({
  name: SERVICE,
  port: parsePort(process.env['PORT'], 3000),
  routes: [
    // Liveness of the gateway itself: the services behind it have their own health checks.
    { method: 'GET', path: '/health', handler: () => ({ status: 200, body: { status: 'ok' } }) },
    { method: 'POST', path: '/orders', handler: async (req) => forward(req, `${ordersUrl}/orders`, await req.json()) },
    { method: 'GET', path: '/orders/:id', handler: (req) => forward(req, `${ordersUrl}/orders/${segment(req.params['id'])}`) },
    { method: 'GET', path: '/stock', handler: (req) => forward(req, `${inventoryUrl}/stock`) },
    { method: 'GET', path: '/stock/:sku', handler: (req) => forward(req, `${inventoryUrl}/stock/${segment(req.params['sku'])}`) },
  ],
});
