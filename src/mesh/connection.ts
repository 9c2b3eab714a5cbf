/**
 * One proxied TCP connection: the client socket, the upstream socket and the two links between
 * them. Half-close is passed on (FIN one way leaves the other way open); any error destroys both
 * sides together; a connection is finished once both sockets have closed.
 */
import type { Socket } from 'node:net';
import { Link, type LinkControls } from './link.js';
import type { Toxic, ToxicCollection, ToxicListener } from './toxic-collection.js';
import type { StreamDirection } from './toxics/types.js';

/** What a live connection reports. */
export interface ConnectionInfo {
  id: number;
  /** The client's address, `ip:port`. */
  client: string;
  openedAt: number;
  /** Bytes read from the client (before toxics). */
  receivedUp: number;
  /** Bytes written to the upstream (after toxics). */
  sentUp: number;
  /** Bytes read from the upstream. */
  receivedDown: number;
  /** Bytes written to the client. */
  sentDown: number;
}

/** How a connection is set up. */
export interface ConnectionOptions {
  id: number;
  client: Socket;
  upstream: Socket;
  toxics: ToxicCollection;
  bufferBytes: number;
  random: () => number;
  /** Called once, when both sockets have closed. */
  onFinished(connection: Connection): void;
}

/** Grace for a gracefully closed side to flush before it is destroyed anyway. */
const CLOSE_GRACE_MS = 5_000;

/** A client and its upstream, joined by two links. */
export class Connection implements ToxicListener {
  readonly id: number;
  readonly openedAt = Date.now();
  readonly client: Socket;
  readonly upstream: Socket;
  private readonly options: ConnectionOptions;
  private readonly clientAddress: string;
  private readonly controls: LinkControls;
  private links: readonly [Link, Link] | undefined;
  private unsubscribe: (() => void) | undefined;
  private open = 2;
  private ending = false;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.id = options.id;
    this.client = options.client;
    this.upstream = options.upstream;
    this.clientAddress = `${options.client.remoteAddress ?? '?'}:${options.client.remotePort ?? 0}`;
    this.controls = { close: () => this.close(), reset: () => this.reset(), fail: () => this.destroy() };
    for (const socket of [this.client, this.upstream]) {
      socket.on('error', () => this.destroy());
      socket.once('close', () => this.socketClosed());
    }
  }

  /** Starts moving data, once the upstream is connected; the toxics in force now apply. */
  start(): void {
    if (this.ending) return;
    this.links = [this.link('upstream', this.client, this.upstream), this.link('downstream', this.upstream, this.client)];
    this.unsubscribe = this.options.toxics.subscribe(this);
    for (const link of this.links) link.start();
  }

  toxicAdded(toxic: Toxic): void {
    for (const link of this.links ?? []) link.toxicAdded(toxic);
  }

  toxicUpdated(toxic: Toxic): void {
    for (const link of this.links ?? []) link.toxicUpdated(toxic);
  }

  toxicRemoved(toxic: Toxic): void {
    for (const link of this.links ?? []) link.toxicRemoved(toxic);
  }

  /** Live figures for this connection. */
  info(): ConnectionInfo {
    const [up, down] = this.links ?? [];
    return {
      id: this.id,
      client: this.clientAddress,
      openedAt: this.openedAt,
      receivedUp: up?.received ?? 0,
      sentUp: up?.sent ?? 0,
      receivedDown: down?.received ?? 0,
      sentDown: down?.sent ?? 0,
    };
  }

  /** Ends both sides after what was already written (FIN), then closes them. */
  close(): void {
    if (this.ending) return;
    this.stopLinks();
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      timer.unref();
      socket.end(() => {
        clearTimeout(timer);
        socket.destroy();
      });
    }
  }

  /** Resets both sides (RST): the peers see "connection reset by peer". */
  reset(): void {
    this.stopLinks();
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      try {
        socket.resetAndDestroy();
      } catch {
        // Not connected yet: nothing to reset, only to close.
        socket.destroy();
      }
    }
  }

  /** Destroys both sides at once (an error on either, a proxy being disabled or closed). */
  destroy(): void {
    this.stopLinks();
    this.client.destroy();
    this.upstream.destroy();
  }

  private link(direction: StreamDirection, source: Socket, dest: Socket): Link {
    const { toxics, bufferBytes, random } = this.options;
    return new Link({ direction, source, dest, toxics: toxics.chain(direction), bufferBytes, random, controls: this.controls });
  }

  private stopLinks(): void {
    this.ending = true;
    for (const link of this.links ?? []) link.stop();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private socketClosed(): void {
    this.open--;
    if (this.open > 0) return;
    this.stopLinks();
    this.options.onFinished(this);
  }
}
