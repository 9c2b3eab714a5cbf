import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { dbPeerFromEnv, inSpan, tracedQuery, type Queryable } from './db-tracing.js';

/** An order as the API returns it. */
export interface Order {
  id: string;
  sku: string;
  quantity: number;
  status: 'confirmed';
  createdAt: string;
}

interface OrderRow {
  id: string;
  sku: string;
  quantity: number;
  status: 'confirmed';
  idempotency_key: string | null;
  created_at: Date;
}

const COLUMNS = 'id, sku, quantity, status, idempotency_key, created_at';

/** Runs a query in a CLIENT span naming the database pg connects to (PG* variables, as pg reads them). */
function query<R extends QueryResultRow = QueryResultRow>(db: Queryable, text: string, values?: unknown[]): Promise<QueryResult<R>> {
  return tracedQuery<R>(dbPeerFromEnv(), db, text, values);
}

/** A stored order and the idempotency key it was created with, if any. */
export interface StoredOrder {
  order: Order;
  idempotencyKey: string | undefined;
}

function toStored(row: OrderRow): StoredOrder {
  return {
    order: { id: row.id, sku: row.sku, quantity: row.quantity, status: row.status, createdAt: row.created_at.toISOString() },
    idempotencyKey: row.idempotency_key ?? undefined,
  };
}

/** Creates the orders table when it is missing; safe when several replicas start at once. */
export function migrate(pool: Pool): Promise<void> {
  return inSpan('migrate orders', () => migrateInSpan(pool));
}

async function migrateInSpan(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await query(client, 'BEGIN');
    // One replica at a time: concurrent CREATE TABLE IF NOT EXISTS can still collide.
    await query(client, "SELECT pg_advisory_xact_lock(hashtext('shop.orders.migrate'))");
    await query(client, `
      CREATE TABLE IF NOT EXISTS orders (
        id              uuid PRIMARY KEY,
        sku             text NOT NULL,
        quantity        integer NOT NULL CHECK (quantity > 0),
        status          text NOT NULL,
        idempotency_key text UNIQUE,
        created_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await query(client, 'COMMIT');
  } catch (error) {
    await query(client, 'ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Finds an order by id. */
export async function findOrder(pool: Pool, id: string): Promise<StoredOrder | undefined> {
  const { rows } = await query<OrderRow>(pool, `SELECT ${COLUMNS} FROM orders WHERE id = $1`, [id]);
  return rows[0] && toStored(rows[0]);
}

/** Finds the order created with an idempotency key. */
export async function findOrderByKey(pool: Pool | PoolClient, key: string): Promise<StoredOrder | undefined> {
  const { rows } = await query<OrderRow>(pool, `SELECT ${COLUMNS} FROM orders WHERE idempotency_key = $1`, [key]);
  return rows[0] && toStored(rows[0]);
}

/** A new order, as `createOrder` stores it. */
export interface NewOrder {
  id: string;
  sku: string;
  quantity: number;
  idempotencyKey: string | undefined;
}

/** What `confirm` (the stock reservation) answers to `createOrder`. */
export type Confirmation<T> = { ok: true } | { ok: false; reason: T };

/** The outcome of `createOrder`. */
export type CreateOutcome<T> =
  | { kind: 'created'; order: Order }
  /** Another request with the same idempotency key created this order first. */
  | { kind: 'exists'; stored: StoredOrder }
  /** Another request with the same idempotency key is still placing its order: nothing was done. */
  | { kind: 'in_progress' }
  /** `confirm` declined: nothing was stored. */
  | { kind: 'declined'; reason: T };

/** How long a request waits for another one placing an order with the same key, by default. */
export const LOCK_TIMEOUT_MS = 5_000;

/** PostgreSQL's lock_not_available: lock_timeout ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Stores a new order, but commits it only if `confirm` (the stock reservation) succeeds,
 * so that an order is never stored without stock. The row is inserted first: a concurrent
 * request with the same idempotency key (or, the same thing, the order id derived from it)
 * waits on it, up to `lockTimeoutMs`, then finds the committed order — or, when the first one
 * is still at it, answers `in_progress` without confirming anything.
 */
export async function createOrder<T>(
  pool: Pool,
  order: NewOrder,
  confirm: () => Promise<Confirmation<T>>,
  lockTimeoutMs = LOCK_TIMEOUT_MS,
): Promise<CreateOutcome<T>> {
  const client = await pool.connect();
  try {
    await query(client, 'BEGIN');
    await query(client, "SELECT set_config('lock_timeout', $1, true)", [`${lockTimeoutMs}ms`]);
    let inserted: QueryResult<OrderRow>;
    try {
      // No conflict target: a clash on the key or on the id (derived from the key) is the same
      // order placed twice, and neither may fail the statement.
      inserted = await query<OrderRow>(
        client,
        `INSERT INTO orders (id, sku, quantity, status, idempotency_key)
         VALUES ($1, $2, $3, 'confirmed', $4)
         ON CONFLICT DO NOTHING
         RETURNING ${COLUMNS}`,
        [order.id, order.sku, order.quantity, order.idempotencyKey ?? null],
      );
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
      await query(client, 'ROLLBACK');
      return { kind: 'in_progress' };
    }
    const row = inserted.rows[0];
    if (row === undefined) {
      await query(client, 'ROLLBACK');
      const stored = order.idempotencyKey === undefined ? undefined : await findOrderByKey(client, order.idempotencyKey);
      if (stored === undefined) throw new Error(`order ${order.id} exists already, but not with this idempotency key`);
      return { kind: 'exists', stored };
    }
    const confirmed = await confirm();
    if (!confirmed.ok) {
      await query(client, 'ROLLBACK');
      return { kind: 'declined', reason: confirmed.reason };
    }
    // If this commit fails the reservation stays taken; a fuller shop would release it.
    await query(client, 'COMMIT');
    return { kind: 'created', order: toStored(row).order };
  } catch (error) {
    await query(client, 'ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Stored orders of one SKU, for `GET /audit`. */
export interface SkuOrders {
  count: number;
  /** Their quantities added up. */
  quantity: number;
}

/** Stored orders per SKU, created at or after `since` when given, sorted by SKU. */
export async function auditOrders(pool: Pool, since: Date | undefined): Promise<Record<string, SkuOrders>> {
  const { rows } = await query<{ sku: string; count: string; quantity: string }>(
    pool,
    `SELECT sku, count(*)::bigint AS count, sum(quantity)::bigint AS quantity FROM orders
     WHERE $1::timestamptz IS NULL OR created_at >= $1::timestamptz
     GROUP BY sku ORDER BY sku`,
    [since?.toISOString() ?? null],
  );
  return Object.fromEntries(rows.map((row) => [row.sku, { count: Number(row.count), quantity: Number(row.quantity) }]));
}

/** Where orders are kept: what the orders service needs of its database. */
export interface OrderStore {
  /** Answers when the database does; throws otherwise. */
  ping(): Promise<void>;
  findOrder(id: string): Promise<StoredOrder | undefined>;
  findOrderByKey(key: string): Promise<StoredOrder | undefined>;
  /** Stores an order if `confirm` succeeds; see `createOrder`. */
  createOrder<T>(order: NewOrder, confirm: () => Promise<Confirmation<T>>): Promise<CreateOutcome<T>>;
  /** Stored orders per SKU (created at or after `since`); see `auditOrders`. */
  audit(since: Date | undefined): Promise<Record<string, SkuOrders>>;
}

/** The OrderStore over a PostgreSQL pool (the table comes from `migrate`). */
export function pgOrderStore(pool: Pool, options: { lockTimeoutMs?: number } = {}): OrderStore {
  return {
    ping: async () => {
      await query(pool, 'SELECT 1');
    },
    findOrder: (id) => findOrder(pool, id),
    findOrderByKey: (key) => findOrderByKey(pool, key),
    createOrder: (order, confirm) => createOrder(pool, order, confirm, options.lockTimeoutMs),
    audit: (since) => auditOrders(pool, since),
  };
}
