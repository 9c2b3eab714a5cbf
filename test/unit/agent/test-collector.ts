/**
 * An OTLP/HTTP logs endpoint for agent tests, on 127.0.0.1: it decodes every request with the
 * collector's own decoder and keeps the records, answers as a test scripts it, and can go down
 * and come back up on the same port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeLogsRequest } from '../../../src/telemetry/otlp/index.js';
import type { LogRecord } from '../../../src/telemetry/types.js';

/** How to answer one request; undefined: 200 with an empty protobuf body (full success). */
export type Answer = { status: number; headers?: Record<string, string>; body?: Buffer | string } | undefined;

/** A running test collector. */
export interface TestCollector {
  url: string;
  /** Records of every request answered 2xx, in arrival order. */
  records: LogRecord[];
  /** Every request, answered any way: its record count. */
  requests: number[];
  /** The Authorization header of the last request (how an endpoint's credentials arrive). */
  lastAuthorization?: string | undefined;
  /** Decides the answer to each request (given its decoded record count); the records are kept only for 2xx. */
  answer: (records: number) => Answer;
  /** Stops listening and drops open connections: the collector is down. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a collector (or prepares one on a fixed port, down, with `startDown`). */
export async function startTestCollector(options: { startDown?: boolean } = {}): Promise<TestCollector> {
  let server: Server | undefined;
  let port = 0;
  const collector: TestCollector = {
    url: '',
    records: [],
    requests: [],
    answer: () => undefined,
    down: async () => {
      const current = server;
      server = undefined;
      if (!current) return;
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    up: async () => {
      const next = makeServer(collector);
      await new Promise<void>((resolve, reject) => {
        next.once('error', reject);
        next.listen(port, '127.0.0.1', () => resolve());
      });
      server = next;
      port = (next.address() as AddressInfo).port;
      collector.url = `http://127.0.0.1:${port}`;
    },
    close: () => collector.down(),
  };
  await collector.up();
  if (options.startDown) await collector.down();
  return collector;
}

function makeServer(collector: TestCollector): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let decoded: ReturnType<typeof decodeLogsRequest>;
      try {
        decoded = decodeLogsRequest(Buffer.concat(chunks), req.headers['content-type'] ?? '', req.headers['content-encoding']);
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(String(error));
        return;
      }
      collector.requests.push(decoded.records.length);
      collector.lastAuthorization = req.headers.authorization;
      const answer = req.url === '/v1/logs' ? collector.answer(decoded.records.length) : { status: 404 };
      const status = answer?.status ?? 200;
      if (status >= 200 && status < 300) collector.records.push(...decoded.records);
      res.writeHead(status, { 'content-type': 'application/x-protobuf', ...answer?.headers });
      res.end(answer?.body ?? '');
    });
  });
}
