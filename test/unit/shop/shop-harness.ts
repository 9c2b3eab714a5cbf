/**
 * The whole example shop in one process for tests: inventory, orders (over the orders tests'
 * in-memory store) and the gateway on port 0, with a faulty proxy in front of the inventory that
 * does to `POST /reservations` what the mesh's `http_drop` (reset, upstream) and `http_duplicate`
 * do, with a seeded random so that runs repeat.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AuditReport } from '../../../examples/shop/gateway/src/audit.js';
import { gatewayRoutes } from '../../../examples/shop/gateway/src/routes.js';
import { inventoryRoutes } from '../../../examples/shop/inventory/src/routes.js';
import { Inventory, parseStock } from '../../../examples/shop/inventory/src/stock.js';
import { reserveStock } from '../../../examples/shop/orders/src/inventory-client.js';
import { ordersRoutes } from '../../../examples/shop/orders/src/orders.js';
import { MemoryStore } from '../../../examples/shop/orders/test/unit/memory-store.js';
import { createHttpServer } from '../../../examples/shop/shared/http.js';
import { call, close, listen, postJson } from '../../../examples/shop/shared/testing.js';

/** What to run: the shop's mode, and the share of reservations dropped, duplicated, and answered but lost. */
export interface ShopOptions {
  idempotency: boolean;
  /** Reset before delivering (`http_drop`, upstream). */
  drop: number;
  /** Delivered twice, the first answer passed on (`http_duplicate`). */
  duplicate: number;
  /** Delivered, then reset instead of answering (`http_drop`, downstream). */
  lose?: number;
  seed: number;
}

/** A running shop. */
export interface Shop {
  gatewayUrl: string;
  /** Reservation calls the proxy dropped, duplicated and lost the answer of, so far. */
  faults: { dropped: number; duplicated: number; lost: number };
  /** Places `count` orders of one widget through the gateway, 8 at a time; answers the count per status. */
  placeOrders(count: number): Promise<Map<number, number>>;
  stop(): Promise<void>;
}

/** mulberry32: a small seeded random in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Reads a whole request or response body. */
async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Sends one request upstream; resolves to its answer. */
function send(target: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (res) => {
      readAll(res).then((data) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: data }), reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}

/** The faulty proxy: drops (resets, before delivering), duplicates or loses the answer of `POST /reservations`; passes the rest. */
function faultyProxy(upstream: string, options: ShopOptions, faults: Shop['faults']): Server {
  const random = seeded(options.seed);
  return createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const target = new URL(req.url ?? '/', upstream);
      const faulted = req.method === 'POST' && target.pathname.startsWith('/reservations');
      if (faulted && random() < options.drop) {
        faults.dropped++;
        res.socket?.resetAndDestroy();
        return;
      }
      const duplicate = faulted && random() < options.duplicate;
      const lose = faulted && random() < (options.lose ?? 0);
      const answer = await send(target, req, body);
      if (duplicate) {
        faults.duplicated++;
        await send(target, req, body);
      }
      if (lose) {
        faults.lost++;
        res.socket?.resetAndDestroy();
        return;
      }
      res.writeHead(answer.status, answer.headers).end(answer.body);
    })().catch(() => res.socket?.destroy());
  });
}

/** Starts inventory (10000 widgets), the faulty proxy, orders and the gateway. */
export async function startShop(options: ShopOptions): Promise<Shop> {
  const servers: Server[] = [];
  const serve = async (server: Server): Promise<string> => {
    servers.push(server);
    return listen(server);
  };
  const quiet = { log: () => undefined };
  const { idempotency } = options;
  const fast = { attempts: 3, backoffMs: 1, totalMs: 10_000 };
  // The memory store dates every order 2025-01-02: the inventory "started" before that.
  const inventory = new Inventory(parseStock('widget=10000'), { dedupe: idempotency });
  const inventoryUrl = await serve(createHttpServer({ name: 'inventory', routes: inventoryRoutes(inventory, { startedAt: new Date('2025-01-01T00:00:00Z'), idempotency }), ...quiet }));
  const faults = { dropped: 0, duplicated: 0, lost: 0 };
  const proxyUrl = await serve(faultyProxy(inventoryUrl, options, faults));
  const ordersUrl = await serve(
    createHttpServer({
      name: 'orders',
      routes: ordersRoutes({
        store: new MemoryStore(),
        reserveStock: (request, requestId) => reserveStock(proxyUrl, request, requestId, { idempotencyKey: idempotency, timeoutMs: 2_000 }),
        idempotency,
        reserveRetry: fast,
      }),
      ...quiet,
    }),
  );
  const gatewayUrl = await serve(createHttpServer({ name: 'gateway', routes: gatewayRoutes({ ordersUrl, inventoryUrl, idempotency, orderRetry: fast }), ...quiet }));

  return {
    gatewayUrl,
    faults,
    async placeOrders(count) {
      const statuses = new Map<number, number>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < count) {
          next++;
          const answer = await postJson(`${gatewayUrl}/orders`, { sku: 'widget', quantity: 1 });
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      return statuses;
    },
    stop: async () => {
      await Promise.all(servers.map((server) => close(server)));
    },
  };
}

/** The gateway's `GET /audit`. */
export async function auditFromGateway(shop: Shop): Promise<AuditReport> {
  const answer = await call(`${shop.gatewayUrl}/audit`);
  if (answer.status !== 200) throw new Error(`GET /audit answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body as AuditReport;
}

