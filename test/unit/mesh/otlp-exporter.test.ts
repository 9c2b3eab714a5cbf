/**
 * The exporter under a backlog: a slow collector must still get every record (larger batches, two
 * requests in flight at most), so a busy proxy does not drop half its spans (bench/mesh-proxy.mjs).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { OtlpExporter } from '../../../src/mesh/http/telemetry/exporter.js';

let server: http.Server | undefined;
let exporter: OtlpExporter<number> | undefined;

afterEach(async () => {
  await exporter?.close();
  exporter = undefined;
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

test('a backlog is sent whole, in larger batches, with at most two requests in flight', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const sizes: number[] = [];
  server = http.createServer((request, response) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      sizes.push(Number(body));
      // A collector that answers after its commit: 30 ms a request.
      setTimeout(() => {
        inFlight--;
        response.end();
      }, 30);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  exporter = new OtlpExporter<number>({
    endpoint: `http://127.0.0.1:${port}`,
    encodeTraces: (batch) => Buffer.from(String(batch.length)),
    batchSize: 100,
    maxQueue: 10_000,
    flushIntervalMs: 10,
  });
  for (let i = 0; i < 5_000; i++) exporter.push(i);
  const deadline = Date.now() + 5_000;
  while (exporter.stats().sent < 5_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));

  expect(exporter.stats()).toMatchObject({ sent: 5_000, dropped: 0, queued: 0 });
  expect(maxInFlight).toBe(2);
  expect(Math.max(...sizes)).toBe(400);
  expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(5_000);
});

test('a trickle is not sent as a stream of tiny requests while the collector is slow to answer; close sends what is left', async () => {
  const sizes: number[] = [];
  // A holder: TypeScript does not see the server's callback set it while the test waits.
  const held: { release?: () => void } = {};
  /** Waits for the request the collector holds, and takes the function that answers it. */
  const heldRequest = async (): Promise<() => void> => {
    for (;;) {
      const release = held.release;
      if (release) {
        delete held.release;
        return release;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      sizes.push(Number(body));
      // Held until the test lets it go: records arrive meanwhile.
      held.release = () => response.end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // No flush timer within the test: only the first flush and close send.
  exporter = new OtlpExporter<number>({ endpoint: `http://127.0.0.1:${port}`, encodeTraces: (batch) => Buffer.from(String(batch.length)), batchSize: 100, maxQueue: 10_000, flushIntervalMs: 3_600_000 });
  exporter.push(1);
  const first = exporter.flush();
  const answerFirst = await heldRequest();
  for (let i = 0; i < 3; i++) exporter.push(i);
  answerFirst();
  await first;
  // The three records that came in while the first request was out wait: they are not a full batch.
  expect(sizes).toEqual([1]);
  expect(exporter.stats()).toMatchObject({ sent: 1, queued: 3 });
  const closing = exporter.close();
  (await heldRequest())();
  await closing;
  exporter = undefined;
  expect(sizes).toEqual([1, 3]);
});
