/**
 * Kept-alive upstream connections of the fast lane, per replica: the most recently used idle one
 * first (LIFO keeps few connections warm), at most `maxSockets` per replica in use or idle, callers
 * past it waiting in order. Each connection has one set of socket listeners for its whole life and
 * hands its events to whoever holds it, so a request costs no listener churn.
 */
import net, { type Socket } from 'node:net';
import type { Replica } from '../replicas.js';

/** Below Node's default server keep-alive (5 s): an upstream connection idle longer is not used again. */
export const UPSTREAM_IDLE_MS = 4_000;

/**
 * How much one read from an upstream takes. Upstream sockets read into one buffer of this size,
 * shared by the pool (Node's `onread`), rather than into a new 64 KiB allocation per read: that
 * allocation, its shrinking and its freeing on a GC thread cost more than the rest of the read.
 */
const READ_BUFFER_BYTES = 64 * 1024;

/** What the holder of a connection hears from it. */
export interface UpstreamListener {
  /**
   * Bytes from the upstream. `chunk` is a view of the pool's read buffer, overwritten by the next
   * read from any upstream: a holder copies what it keeps or hands to an asynchronous write.
   */
  onData(chunk: Buffer): void;
  /** The socket closed; `error` when it failed. */
  onClose(error: NodeJS.ErrnoException | undefined): void;
  /** The socket was silent for the timeout its holder set. */
  onTimeout(): void;
}

/** One upstream connection. */
export class UpstreamConnection {
  holder: UpstreamListener | undefined;
  /** Whether it served a request before (a reused connection may have been closed by the upstream meanwhile). */
  reused = false;
  /** Whether its connect succeeded. */
  connected = false;
  /** `performance.now()` when it was last released. */
  idleSince = 0;
  private error: NodeJS.ErrnoException | undefined;

  readonly socket: Socket;

  constructor(
    readonly replica: Replica,
    readBuffer: Buffer,
    private readonly onGone: (connection: UpstreamConnection) => void,
  ) {
    const socket = net.connect({
      host: replica.target.host || '127.0.0.1',
      port: replica.target.port,
      onread: {
        buffer: readBuffer,
        callback: (length) => {
          this.received(readBuffer.subarray(0, length));
          return true;
        },
      },
    });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once('connect', () => {
      this.connected = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error;
    });
    socket.on('timeout', () => {
      if (this.holder) this.holder.onTimeout();
      else socket.destroy();
    });
    socket.once('close', () => {
      const holder = this.holder;
      this.holder = undefined;
      this.onGone(this);
      holder?.onClose(this.error);
    });
  }

  private received(chunk: Buffer): void {
    if (this.holder) this.holder.onData(chunk);
    else this.socket.destroy(); // bytes nobody asked for: the connection is out of step
  }
}

interface ReplicaConnections {
  idle: UpstreamConnection[];
  /** In use or idle. */
  count: number;
  waiting: ((connection: UpstreamConnection) => void)[];
}

/** The fast lane's upstream connections, all replicas together. */
export class UpstreamPool {
  private readonly byReplica = new Map<string, ReplicaConnections>();
  private closed = false;
  /** Every upstream socket of the pool reads into it; made with the first connection. */
  private readBuffer: Buffer | undefined;

  constructor(
    private readonly maxSockets: number,
    private readonly maxIdle: number,
  ) {}

  /**
   * A connection to `replica` for `holder`: an idle one, a new one, or the next one released when at
   * the bound. When it has to wait, returns a function that leaves the queue (an attempt given up),
   * so a waiter that no longer wants a connection holds nothing.
   */
  acquire(replica: Replica, holder: UpstreamListener, use: (connection: UpstreamConnection) => void, now = performance.now()): (() => void) | undefined {
    const entry = this.entry(replica);
    // Idle too long: the upstream may be closing it (Node servers close after 5 s). Checked here, as
    // it is used, rather than with a timer per release. `now` is the caller's clock reading, if it has one.
    let idle = entry.idle.pop();
    while (idle && now - idle.idleSince > UPSTREAM_IDLE_MS) {
      idle.socket.destroy();
      idle = entry.idle.pop();
    }
    if (idle) {
      idle.holder = holder;
      use(idle);
      return undefined;
    }
    if (entry.count >= this.maxSockets) {
      const waiter = (connection: UpstreamConnection): void => {
        connection.holder = holder;
        use(connection);
      };
      entry.waiting.push(waiter);
      return () => {
        const index = entry.waiting.indexOf(waiter);
        if (index >= 0) entry.waiting.splice(index, 1);
      };
    }
    const connection = this.connect(replica, entry);
    connection.holder = holder;
    use(connection);
    return undefined;
  }

  /** Holders waiting for a connection, all replicas together. */
  get waitingCount(): number {
    let count = 0;
    for (const entry of this.byReplica.values()) count += entry.waiting.length;
    return count;
  }

  /** Takes a connection back after a complete exchange (at `now`, if the caller read the clock); it serves the next waiter or idles. */
  release(connection: UpstreamConnection, now = performance.now()): void {
    connection.holder = undefined;
    connection.reused = true;
    const entry = this.entry(connection.replica);
    const waiter = entry.waiting.shift();
    if (waiter) {
      waiter(connection);
      return;
    }
    if (this.closed || entry.idle.length >= this.maxIdle) {
      connection.socket.destroy();
      return;
    }
    connection.idleSince = now;
    entry.idle.push(connection);
  }

  /** Accepts idle connections again after `close()`. */
  open(): void {
    this.closed = false;
  }

  /** Closes every idle connection; connections in use close with their exchange. */
  close(): void {
    this.closed = true;
    for (const entry of this.byReplica.values()) {
      for (const connection of entry.idle.splice(0)) connection.socket.destroy();
    }
  }

  /** Idle connections now, all replicas together. */
  get idleCount(): number {
    let count = 0;
    for (const entry of this.byReplica.values()) count += entry.idle.length;
    return count;
  }

  private entry(replica: Replica): ReplicaConnections {
    let entry = this.byReplica.get(replica.address);
    if (!entry) {
      entry = { idle: [], count: 0, waiting: [] };
      this.byReplica.set(replica.address, entry);
    }
    return entry;
  }

  private forget(connection: UpstreamConnection): void {
    const entry = this.entry(connection.replica);
    entry.count--;
    const index = entry.idle.indexOf(connection);
    if (index >= 0) entry.idle.splice(index, 1);
    // A slot is free: a waiter gets a new connection.
    const waiter = entry.waiting.shift();
    if (waiter && !this.closed) waiter(this.connect(connection.replica, entry));
  }

  private connect(replica: Replica, entry: ReplicaConnections): UpstreamConnection {
    entry.count++;
    this.readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
    return new UpstreamConnection(replica, this.readBuffer, (gone) => this.forget(gone));
  }
}
