/** Real sockets on 127.0.0.1 port 0 for the mesh tests; everything opened here is closed by `closeAll()`. */
import { createHash } from 'node:crypto';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';

const servers = new Set<Server>();
const sockets = new Set<Socket>();

/** A listening test server on 127.0.0.1:0. */
export interface TestServer {
  port: number;
  address: string;
  /** Sockets the server accepted (still open or not). */
  accepted: Socket[];
}

function track(socket: Socket): Socket {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  // Tests assert on errors they expect; unexpected ones must not crash the worker.
  socket.on('error', () => undefined);
  return socket;
}

/** Starts a server that hands each accepted socket to `onSocket`. Half-open sockets are allowed. */
export async function startServer(onSocket: (socket: Socket) => void): Promise<TestServer> {
  const accepted: Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    accepted.push(track(socket));
    onSocket(socket);
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  return { port, address: `127.0.0.1:${port}`, accepted };
}

/** Echoes everything back; ends its side when the client ends. */
export function startEchoServer(): Promise<TestServer> {
  return startServer((socket) => socket.pipe(socket));
}

/** Connects to 127.0.0.1:port (or `host:port`). */
export function connect(address: number | string): Promise<Socket> {
  const [host, port] = typeof address === 'number' ? ['127.0.0.1', address] : splitAddress(address);
  return new Promise((resolve, reject) => {
    const socket = track(net.connect({ host, port, allowHalfOpen: true, noDelay: true }));
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1))];
}

/** Resolves with `n` bytes read from `socket` (rejects on early end or after `timeoutMs`). */
export function readBytes(socket: Socket, n: number, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    const done = (error?: Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (error) reject(error);
      else resolve(Buffer.concat(parts).subarray(0, n));
    };
    const onData = (data: Buffer): void => {
      parts.push(data);
      length += data.length;
      if (length >= n) done();
    };
    const onEnd = (): void => done(new Error(`stream ended after ${length} of ${n} bytes`));
    const timer = setTimeout(() => done(new Error(`timed out after ${length} of ${n} bytes`)), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/** What happened to a socket, up to its close. */
export interface Outcome {
  data: Buffer;
  /** Milliseconds from the call to 'end' (FIN received), if it came. */
  endedAfter: number | undefined;
  /** Milliseconds from the call to 'close'. */
  closedAfter: number;
  error: NodeJS.ErrnoException | undefined;
  /** Number of 'data' events. */
  reads: number;
}

/** Reads until the socket closes (or `timeoutMs`, which rejects). */
export function outcome(socket: Socket, timeoutMs = 5_000): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let reads = 0;
    let endedAfter: number | undefined;
    let error: NodeJS.ErrnoException | undefined;
    const timer = setTimeout(() => reject(new Error('socket did not close in time')), timeoutMs);
    socket.on('data', (data: Buffer) => {
      parts.push(data);
      reads++;
    });
    socket.once('end', () => {
      endedAfter = performance.now() - started;
      // A half-open client closes its side once the peer has, so 'close' follows.
      if (!socket.writableEnded) socket.end();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      error = err;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(parts), endedAfter, closedAfter: performance.now() - started, error, reads });
    });
  });
}

/** Resolves true if nothing at all arrives on `socket` for `ms`, false at the first byte, end or close. */
export function staysSilent(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (silent: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onEvent);
      socket.off('end', onEvent);
      socket.off('close', onEvent);
      resolve(silent);
    };
    const onEvent = (): void => finish(false);
    const timer = setTimeout(() => finish(true), ms);
    socket.on('data', onEvent);
    socket.once('end', onEvent);
    socket.once('close', onEvent);
  });
}

/** Milliseconds for one write of `payload` and the echo of all of it. */
export async function roundTrip(socket: Socket, payload: Buffer): Promise<number> {
  const started = performance.now();
  const reply = readBytes(socket, payload.length);
  socket.write(payload);
  await reply;
  return performance.now() - started;
}

/** SHA-256 of a buffer, hex. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 10 ms until it holds, for at most `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await delay(10);
  }
}

/** Destroys every socket and closes every server opened by these helpers. */
export async function closeAll(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(
    [...servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  servers.clear();
}
