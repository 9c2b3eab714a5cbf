import { startService } from '../../shared/http.js';
import { startTelemetry } from '../../shared/telemetry.js';
import { parseOnOff, parsePort } from '../../shared/validate.js';
import { gatewayRoutes } from './routes.js';

// Before anything calls out, so the first requests are traced too.
const telemetry = startTelemetry({ serviceName: 'gateway' });

startService({
  name: 'gateway',
  port: parsePort(process.env['PORT'], 3000),
  routes: gatewayRoutes({
    ordersUrl: process.env['ORDERS_URL'] ?? 'http://orders:3000',
    inventoryUrl: process.env['INVENTORY_URL'] ?? 'http://inventory:3000',
    // `off` is the shop's broken variant, for chaos experiments: no keys made, no retries.
    idempotency: parseOnOff('SHOP_IDEMPOTENCY', process.env['SHOP_IDEMPOTENCY'], true),
  }),
  onShutdown: async () => telemetry?.shutdown(),
});
