import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { HttpError, logLine, startService, type Reply } from '../../shared/http.js';
import { isUuid, parsePort } from '../../shared/validate.js';
import { reserveStock, type ReservationResult } from './inventory-client.js';
import { createOrder, findOrder, findOrderByKey, migrate, type StoredOrder } from './store.js';
import { parseIdempotencyKey, parseOrderRequest, type OrderRequest } from './validate.js';

const SERVICE = 'orders';
const inventoryUrl = process.env['INVENTORY_URL'] ?? 'http://inventory:3000';

// Connection settings come from the standard PGHOST, PGUSER, PGPASSWORD, PGDATABASE variables.
const pool = new pg.Pool({ max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, query_timeout: 10_000 });
pool.on('error', (error) => {
  logLine(SERVICE, { level: 'warn', msg: 'an idle database connection failed', error: error.message });
});

/** The answer to a request that repeats an idempotency key: the original order, if it matches. */
function replay(stored: StoredOrder, request: OrderRequest): Reply {
  if (stored.order.sku !== request.sku || stored.order.quantity !== request.quantity) {
    throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for a different order', {
      orderId: stored.order.id,
    });
  }
  return { status: 201, body: stored.order, headers: { location: `/orders/${stored.order.id}`, 'idempotent-replayed': 'true' } };
}

// The database may still be starting (or restarting): retry for a minute, then give up.
for (let attempt = 1; ; attempt++) {
  try {
    await migrate(pool);
    break;
  } catch (error) {
    if (attempt >= 30) throw error;
    logLine(SERVICE, { level: 'warn', msg: 'database not ready; retrying', attempt, error: String(error) });
    await sleep(2_000);
  }
}

startService({
  name: SERVICE,
  port: parsePort(process.env['PORT'], 3000),
  onShutdown: () => pool.end(),
  routes: [
    {
      method: 'GET',
      path: '/health',
      handler: async () => {
        try {
          await pool.query('SELECT 1');
        } catch (error) {
          throw new HttpError(503, 'db_unavailable', `the database does not answer: ${String(error)}`);
        }
        return { status: 200, body: { status: 'ok', db: 'ok' } };
      },
    },
    {
      method: 'POST',
      path: '/orders',
      handler: async (req): Promise<Reply> => {
        const parsed = parseOrderRequest(await req.json());
        if (!parsed.ok) throw new HttpError(400, 'invalid_request', 'the order is not valid', { details: parsed.errors });
        const key = parseIdempotencyKey(req.headers['idempotency-key']);
        if (!key.ok) throw new HttpError(400, 'invalid_request', 'the Idempotency-Key header is not valid', { details: key.errors });
        const request = parsed.value;

        if (key.value !== undefined) {
          const stored = await findOrderByKey(pool, key.value);
          if (stored !== undefined) return replay(stored, request);
        }

        const id = randomUUID();
        const outcome = await createOrder<Exclude<ReservationResult, { kind: 'reserved' }>>(
          pool,
          { id, ...request, idempotencyKey: key.value },
          async () => {
            const reservation = await reserveStock(inventoryUrl, { ...request, orderId: id }, req.requestId);
            return reservation.kind === 'reserved' ? { ok: true } : { ok: false, reason: reservation };
          },
        );
        switch (outcome.kind) {
          case 'created':
            return { status: 201, body: outcome.order, headers: { location: `/orders/${outcome.order.id}` } };
          case 'exists':
            return replay(outcome.stored, request);
          case 'declined':
            if (outcome.reason.kind === 'unknown_sku') {
              throw new HttpError(422, 'unknown_sku', `the shop does not sell ${request.sku}`);
            }
            throw new HttpError(409, 'out_of_stock', `only ${outcome.reason.available} of ${request.sku} left`, {
              available: outcome.reason.available,
            });
        }
      },
    },
    {
      method: 'GET',
      path: '/orders/:id',
      handler: async ({ params }) => {
        const id = params['id'] ?? '';
        const stored = isUuid(id) ? await findOrder(pool, id) : undefined;
        if (stored === undefined) throw new HttpError(404, 'order_not_found', `no order ${id}`);
        return { status: 200, body: stored.order };
      },
    },
  ],
});
