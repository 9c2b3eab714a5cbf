import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * True when something on this host already listens on the port: we try to bind it ourselves and
 * let go at once. Addresses that are not on this host count as free (Docker will report them).
 */
export function isHostPortTaken(hostIp: string, port: number, protocol: string): Promise<boolean> {
  const host = hostIp === '' ? '0.0.0.0' : hostIp;
  return new Promise((resolve) => {
    const taken = (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES');
    if (protocol === 'udp') {
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', (error) => {
        socket.close();
        taken(error);
      });
      socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(false)));
      return;
    }
    const server = createServer();
    server.once('error', taken);
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}
