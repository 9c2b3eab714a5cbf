import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../../src/core/errors.js';
import { resolveEndpoint } from '../../../src/runtime/docker/endpoint.js';
import { hostPortOf, translateDockerError } from '../../../src/runtime/docker/errors.js';

const local = resolveEndpoint({});

/** An error shaped like docker-modem's for an HTTP failure. */
function modemError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, json: { message } });
}

function connectError(code: string, address: string): Error {
  return Object.assign(new Error(`connect ${code} ${address}`), { code, syscall: 'connect', address });
}

describe('resolveEndpoint', () => {
  it('defaults to the local socket', () => {
    expect(local).toMatchObject({ url: 'unix:///var/run/docker.sock', fromEnv: false, options: { socketPath: '/var/run/docker.sock' } });
  });

  it('reads unix:// and tcp:// DOCKER_HOST values, ignoring process.env', () => {
    expect(resolveEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toMatchObject({
      url: 'unix:///run/user/1000/docker.sock',
      fromEnv: true,
      options: { socketPath: '/run/user/1000/docker.sock', host: undefined },
    });
    expect(resolveEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toMatchObject({
      url: 'tcp://10.0.0.5:2375',
      options: { host: '10.0.0.5', port: '2375', protocol: 'http', socketPath: undefined },
    });
    expect(resolveEndpoint({ DOCKER_HOST: 'build-box' }).url).toBe('tcp://build-box:2375');
  });

  it('asks for TLS files when DOCKER_TLS_VERIFY is set, naming where it looked', () => {
    expect(() => resolveEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent/certs' })).toThrow(
      /\/nonexistent\/certs/,
    );
  });

  it('rejects schemes it cannot use', () => {
    expect(() => resolveEndpoint({ DOCKER_HOST: 'ssh://me@box' })).toThrow(expect.objectContaining({ code: 'DOCKER_HOST_UNSUPPORTED' }));
    expect(() => resolveEndpoint({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' })).toThrow(RuntimeError);
  });
});

describe('translateDockerError', () => {
  it.each(['ENOENT', 'ECONNREFUSED', 'EACCES'])('%s on connect: DOCKER_UNREACHABLE naming the socket, with how to start it', (code) => {
    const error = translateDockerError(connectError(code, '/var/run/docker.sock'), 'list containers', local);
    expect(error.code).toBe('DOCKER_UNREACHABLE');
    expect(error.message).toContain('unix:///var/run/docker.sock');
    expect(error.hint).toContain('start it with `dockerd &` or `systemctl start docker`, or run scripts/ensure-docker.sh; set DOCKER_HOST');
  });

  it('says the endpoint came from DOCKER_HOST', () => {
    const endpoint = resolveEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:1' });
    const error = translateDockerError(connectError('ECONNREFUSED', '127.0.0.1:1'), 'ping', endpoint);
    expect(error.message).toMatch(/tcp:\/\/127\.0\.0\.1:1 \(from DOCKER_HOST\): connection refused/);
  });

  it('does not take a missing file for a missing engine', () => {
    const error = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open' });
    expect(translateDockerError(error, 'build image', local).code).toBe('DOCKER_ERROR');
  });

  it('names the container of a name conflict', () => {
    const error = translateDockerError(
      modemError(409, 'Conflict. The container name "/shop-api-1" is already in use by container "0123456789abcdef0123". You have to remove (or rename) that container to be able to reuse that name.'),
      'create container "shop-api-1"',
      local,
    );
    expect(error.code).toBe('CONTAINER_NAME_CONFLICT');
    expect(error.message).toBe('Cannot create container "shop-api-1": the container name "shop-api-1" is already taken by container 0123456789ab');
    expect(error.hint).toContain('docker rm -f shop-api-1');
  });

  it.each([
    ['driver failed programming external connectivity on endpoint shop-api-1 (abc): Bind for 0.0.0.0:8080 failed: port is already allocated', 8080],
    ['driver failed programming external connectivity on endpoint x (y): Error starting userland proxy: listen tcp4 0.0.0.0:5432: bind: address already in use', 5432],
    ['Bind for [::]:9000 failed: port is already allocated', 9000],
  ])('names the port of %j', (message, port) => {
    expect(hostPortOf(message)).toBe(port);
    const error = translateDockerError(modemError(500, message), 'start container "shop-api-1"', local);
    expect(error.code).toBe('PORT_IN_USE');
    expect(error.message).toContain(`host port ${port} is already in use`);
  });

  it.each([
    [404, 'No such image: shop/api:9', 'IMAGE_NOT_FOUND'],
    [404, 'No such container: deadbeef', 'CONTAINER_NOT_FOUND'],
    [409, 'Container deadbeef is not running', 'CONTAINER_NOT_RUNNING'],
    [404, 'network shop_default not found', 'NETWORK_NOT_FOUND'],
    [403, 'error while removing network: network shop_default id 123 has active endpoints', 'NETWORK_IN_USE'],
    [409, 'remove shop_pgdata: volume is in use - [abc]', 'VOLUME_IN_USE'],
    [500, 'something else broke', 'DOCKER_ERROR'],
  ])('%i %j → %s', (status, message, code) => {
    const error = translateDockerError(modemError(status, message), 'do it', local);
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(`Cannot do it: ${message}`);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('passes FlotillaErrors through unchanged', () => {
    const original = new RuntimeError('BUILD_FAILED', 'nope');
    expect(translateDockerError(original, 'build', local)).toBe(original);
  });
});
