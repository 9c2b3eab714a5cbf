/**
 * Upgrades (WebSocket) pass through as raw bytes: the request head is rewritten (X-Forwarded-For,
 * traceparent) and sent to a replica, then both sockets are piped to each other, the 101 and every
 * frame after it included. The proxy does not parse frames; message faults do not apply after the 101.
 */
import net, { type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Replica } from './replicas.js';

/** How one upgrade is passed on. */
export interface UpgradeOptions {
  request: IncomingMessage;
  socket: Socket;
  head: Buffer;
  replica: Replica;
  /** Header lines to replace or add (lower-case names): x-forwarded-for, traceparent. */
  overrides: Readonly<Record<string, string>>;
  /** Called once with the upstream's status (0 when none came) when it is known. */
  onStatus(status: number): void;
  /** Called once when both sockets are closed. */
  onClosed(): void;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/** Serialises the request head from its raw headers, with `overrides` replacing same-named fields. */
function requestHead(request: IncomingMessage, overrides: Readonly<Record<string, string>>): string {
  const lines = [`${request.method ?? 'GET'} ${request.url ?? '/'} HTTP/${request.httpVersion}`];
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (Object.hasOwn(overrides, name.toLowerCase())) continue;
    lines.push(`${name}: ${raw[i + 1] as string}`);
  }
  for (const [name, value] of Object.entries(overrides)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Connects the caller's socket to a replica for an upgraded connection. */
export function passUpgrade(options: UpgradeOptions): Socket {
  const { socket, replica } = options;
  const upstream = net.connect({ host: replica.target.host || '127.0.0.1', port: replica.target.port, noDelay: true });
  let statusKnown = false;
  let open = 2;
  const status = (code: number): void => {
    if (statusKnown) return;
    statusKnown = true;
    options.onStatus(code);
  };
  const closed = (): void => {
    open--;
    if (open === 0) options.onClosed();
  };
  socket.once('close', closed);
  upstream.once('close', closed);
  socket.on('error', () => upstream.destroy());
  upstream.on('error', () => {
    if (!statusKnown && socket.writable) {
      status(502);
      socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    } else socket.destroy();
  });
  socket.once('close', () => upstream.destroy());
  upstream.once('close', () => {
    status(0);
    if (!socket.destroyed) socket.end();
  });
  upstream.once('connect', () => {
    socket.setNoDelay(true);
    upstream.write(requestHead(options.request, options.overrides));
    if (options.head.length > 0) upstream.write(options.head);
    upstream.once('data', (chunk: Buffer) => {
      const match = STATUS_LINE.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 32)));
      status(match ? Number(match[1]) : 0);
    });
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  return upstream;
}
