/** HTTP helpers for the mesh tests: upstream servers and a client on 127.0.0.1, all closed by `closeHttp()`. */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const servers = new Set<Server>();
const agents = new Set<http.Agent>();

/** A test upstream: its address, the requests it saw and the connections it accepted. */
export interface TestUpstream {
  port: number;
  address: string;
  server: Server;
  /** Requests seen, with their bodies. */
  seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[];
  connections: number;
}

/** Starts an HTTP server on 127.0.0.1:0 with `handler`; bodies are read before the handler runs unless `stream` is set. */
export async function startUpstream(
  handler: (request: IncomingMessage, response: ServerResponse, body: Buffer) => void,
  options: { stream?: boolean } = {},
): Promise<TestUpstream> {
  const upstream: TestUpstream = { port: 0, address: '', server: undefined as unknown as Server, seen: [], connections: 0 };
  const server = http.createServer({ keepAlive: true }, (request, response) => {
    if (options.stream) {
      upstream.seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.alloc(0) });
      handler(request, response, Buffer.alloc(0));
      return;
    }
    const parts: Buffer[] = [];
    request.on('data', (chunk: Buffer) => parts.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(parts);
      upstream.seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      handler(request, response, body);
    });
  });
  server.on('connection', () => upstream.connections++);
  servers.add(server);
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  upstream.server = server;
  upstream.port = (server.address() as AddressInfo).port;
  upstream.address = `127.0.0.1:${upstream.port}`;
  return upstream;
}

/** An upstream answering 200 with `ok <method> <url>`. */
export function startOkUpstream(): Promise<TestUpstream> {
  return startUpstream((request, response) => {
    response.end(`ok ${request.method ?? ''} ${request.url ?? ''}`);
  });
}

/** A keep-alive client agent (closed by closeHttp). */
export function keepAliveAgent(maxSockets = 1): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  agents.add(agent);
  return agent;
}

/** What a request came to. */
export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  reusedSocket: boolean;
}

/** Sends one request to `address` (`host:port`); rejects on a socket error or after `timeoutMs`. */
export function request(
  address: string,
  options: { method?: string; path?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string; agent?: http.Agent | false; timeoutMs?: number } = {},
): Promise<Reply> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: address.slice(0, colon),
        port: Number(address.slice(colon + 1)),
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers ?? {},
        agent: options.agent ?? false,
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(parts), reusedSocket: req.reusedSocket });
        });
        response.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('request timed out')), options.timeoutMs ?? 5_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

/** Closes every server and agent opened here. */
export async function closeHttp(): Promise<void> {
  for (const agent of agents) agent.destroy();
  agents.clear();
  await Promise.all(
    [...servers].map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
  servers.clear();
}

