import { startService } from '../../shared/http.js';
import { startTelemetry } from '../../shared/telemetry.js';
import { parsePort } from '../../shared/validate.js';
import { inventoryRoutes } from './routes.js';
import { Inventory, parseStock } from './stock.js';

const telemetry = startTelemetry({ serviceName: 'inventory' });

startService({
  name: 'inventory',
  port: parsePort(process.env['PORT'], 3000),
  routes: inventoryRoutes(new Inventory(parseStock(process.env['STOCK'] ?? ''))),
  onShutdown: async () => telemetry?.shutdown(),
});
