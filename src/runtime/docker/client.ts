/**
 * The connection every driver operation shares: the dockerode client, where it points, and one
 * way to call it so every failure is translated where the driver talks to Docker.
 */
import Dockerode from 'dockerode';
import type { FlotillaError } from '../../core/errors.js';
import type { DockerEndpoint } from './endpoint.js';
import { statusOf, translateDockerError } from './errors.js';

/** A connected-on-demand Engine client. */
export interface DockerClient {
  docker: Dockerode;
  endpoint: DockerEndpoint;
  /** The RuntimeError for a failure of `action`; FlotillaErrors pass through. */
  fail(error: unknown, action: string): FlotillaError;
  /** Runs `operation`; any failure becomes a RuntimeError about `action` (`start container "x"`). */
  call<T>(action: string, operation: () => Promise<T>): Promise<T>;
  /** Like `call`, but answers `fallback` when the Engine replies with one of `statuses` (404: gone). */
  callOr<T, F>(action: string, statuses: readonly number[], fallback: F, operation: () => Promise<T>): Promise<T | F>;
}

/** A client for `endpoint`; nothing connects until the first call. */
export function createDockerClient(endpoint: DockerEndpoint): DockerClient {
  const docker = new Dockerode(endpoint.options);
  const fail = (error: unknown, action: string): FlotillaError => translateDockerError(error, action, endpoint);
  return {
    docker,
    endpoint,
    fail,
    async call(action, operation) {
      try {
        return await operation();
      } catch (error) {
        throw fail(error, action);
      }
    },
    async callOr(action, statuses, fallback, operation) {
      try {
        return await operation();
      } catch (error) {
        const status = statusOf(error);
        if (status !== undefined && statuses.includes(status)) return fallback;
        throw fail(error, action);
      }
    },
  };
}
