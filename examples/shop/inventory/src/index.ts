import { startService } from '../../shared/http.js';
import { startTelemetry } from '../../shared/telemetry.js';
import { parseOnOff, parsePort } from '../../shared/validate.js';
import { inventoryRoutes } from './routes.js';
import { Inventory, parseStock } from './stock.js';

const telemetry = startTelemetry({ serviceName: 'inventory' });
// `off` is the shop's broken variant, for chaos experiments: every reservation takes stock.
const idempotency = parseOnOff('SHOP_IDEMPOTENCY', process.env['SHOP_IDEMPOTENCY'], true);

startService({
  name: 'inventory',
  port: parsePort(process.env['PORT'], 3000),
  routes: inventoryRoutes(new Inventory(parseStock(process.env['STOCK'] ?? ''), { dedupe: idempotency }), { startedAt: new Date(), idempotency }),
  onShutdown: async () => telemetry?.shutdown(),
});
