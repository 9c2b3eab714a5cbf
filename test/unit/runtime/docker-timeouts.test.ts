import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDockerDriver } from '../../../src/runtime/docker/index.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('ping (a fake engine on a real socket)', () => {
  it('calls an engine that accepts but never answers unreachable, after the ping timeout', async () => {
    const port = await listen(createServer((socket) => sockets.push(socket)));
    const driver = createDockerDriver({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` }, pingTimeoutMs: 300 });
    const started = Date.now();
    await expect(driver.ping()).rejects.toMatchObject({
      code: 'DOCKER_UNREACHABLE',
      message: `Cannot reach the Docker Engine at tcp://127.0.0.1:${port} (from DOCKER_HOST): no answer within 0.3s`,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('calls something that is not a Docker Engine unreachable', async () => {
    const port = await listen(createHttpServer((_request, response) => response.writeHead(404).end()));
    const driver = createDockerDriver({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
    await expect(driver.ping()).rejects.toMatchObject({
      code: 'DOCKER_UNREACHABLE',
      message: expect.stringContaining('it answered HTTP 404, which no Docker Engine does') as string,
    });
  });

  it('reports a refused connection with the DOCKER_HOST it tried', async () => {
    const port = await listen(createServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const driver = createDockerDriver({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
    await expect(driver.ping()).rejects.toMatchObject({
      code: 'DOCKER_UNREACHABLE',
      message: `Cannot reach the Docker Engine at tcp://127.0.0.1:${port} (from DOCKER_HOST): connection refused (ECONNREFUSED)`,
    });
  });
});

describe('pull timeouts (a fake engine on a real socket)', () => {
  it('fails when the engine does not answer within the response timeout', async () => {
    const port = await listen(createHttpServer(() => undefined));
    const driver = createDockerDriver({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` }, pullTimeouts: { responseMs: 200 } });
    const started = Date.now();
    await expect(driver.pullImage('shop/api:1')).rejects.toMatchObject({
      code: 'PULL_FAILED',
      message: 'Cannot pull image shop/api:1: the registry did not answer within 0.2s',
    });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('fails when a running pull goes silent, after passing on its progress', async () => {
    const port = await listen(
      createHttpServer((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.write('{"status":"Pulling from shop/api","id":"1"}\n');
      }),
    );
    const driver = createDockerDriver({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` }, pullTimeouts: { idleMs: 200 } });
    const progress: string[] = [];
    await expect(driver.pullImage('shop/api:1', (line) => progress.push(line))).rejects.toMatchObject({
      code: 'PULL_FAILED',
      message: 'Cannot pull image shop/api:1: the registry did not answer within 0.2s of silence',
    });
    expect(progress).toEqual(['1: Pulling from shop/api']);
  });

  it('reports an error message in the pull stream', async () => {
    const port = await listen(
      createHttpServer((_request, response) => {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end('{"status":"Pulling from shop/api","id":"1"}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n');
      }),
    );
    const driver = createDockerDriver({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
    await expect(driver.pullImage('shop/api:1')).rejects.toMatchObject({
      code: 'IMAGE_NOT_FOUND',
      message: 'Cannot pull image shop/api:1: manifest unknown',
    });
  });
});

