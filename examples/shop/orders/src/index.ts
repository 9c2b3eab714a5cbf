import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { logLine, startService } from '../../shared/http.js';
import { startTelemetry } from '../../shared/telemetry.js';
import { parseOnOff, parsePort } from '../../shared/validate.js';
import { RESERVE_TIMEOUT_MS, reserveStock } from './inventory-client.js';
import { ordersRoutes } from './orders.js';
import { migrate, pgOrderStore } from './store.js';

const SERVICE = 'orders';
// Before the migration, so its queries are traced too.
const telemetry = startTelemetry({ serviceName: SERVICE });
const inventoryUrl = process.env['INVENTORY_URL'] ?? 'http://inventory:3000';
// `off` is the shop's broken variant, for chaos experiments: no key-derived ids, no retries.
const idempotency = parseOnOff('SHOP_IDEMPOTENCY', process.env['SHOP_IDEMPOTENCY'], true);

// Connection settings come from the standard PGHOST, PGUSER, PGPASSWORD, PGDATABASE variables.
const pool = new pg.Pool({ max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, query_timeout: 10_000 });
pool.on('error', (error) => {
  logLine(SERVICE, { level: 'warn', msg: 'an idle database connection failed', error: error.message });
});

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
  // Spans last: the pool's closing is not traced, but the requests before it are.
  onShutdown: async () => {
    await pool.end();
    await telemetry?.shutdown();
  },
  routes: ordersRoutes({
    store: pgOrderStore(pool),
    reserveStock: (request, requestId, timeoutMs) =>
      reserveStock(inventoryUrl, request, requestId, { idempotencyKey: idempotency, timeoutMs: Math.min(timeoutMs ?? RESERVE_TIMEOUT_MS, RESERVE_TIMEOUT_MS) }),
    idempotency,
  }),
});
