/**
 * Helpers for the shop's tests (node:test): servers on a free port of 127.0.0.1, fake
 * services that record what they receive, and a small JSON client. Bundled into the tests
 * only, never into a service.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts `server` on 127.0.0.1 with a port the system picks; resolves to its base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Stops `server`, ending its open (keep-alive) connections. */
export async function close(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.closeAllConnections();
  await closed;
}

/** A base URL where nothing listens: connections to it are refused. */
export async function unusedUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await close(server);
  return url;
}

/** A request a fake service received. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A fake HTTP service: what it received, in order, and where it listens. */
export interface FakeService {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** Starts a fake service that records each request and lets `respond` answer it. */
export async function fakeService(respond: (req: Received, res: ServerResponse) => void | Promise<void>): Promise<FakeService> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      Promise.resolve(respond(request, res)).catch((error: unknown) => {
        res.writeHead(599).end(String(error));
      });
    });
  });
  const url = await listen(server);
  return { url, received, close: () => close(server) };
}

/** Answers a fake request with JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** What `call` answers: the status, the headers and the body, parsed when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Sends a request and reads the whole answer. */
export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text) as unknown;
  return { status: response.status, headers: response.headers, body };
}

/** POSTs a JSON body (a string is sent as it is). */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
