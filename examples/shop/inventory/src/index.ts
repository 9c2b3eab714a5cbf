import { startService } from '../../shared/http.js';
import { parsePort } from '../../shared/validate.js';
import { inventoryRoutes } from './routes.js';
import { Inventory, parseStock } from './stock.js';

startService({
  name: 'inventory',
  port: parsePort(process.env['PORT'], 3000),
  routes: inventoryRoutes(new Inventory(parseStock(process.env['STOCK'] ?? ''))),
});
