/**
 * Known Docker failures, translated where the driver talks to Docker into RuntimeErrors with a
 * stable code and a hint, so callers branch on codes and users read what to do next.
 */
import { FlotillaError, RuntimeError } from '../../core/errors.js';
import type { DockerEndpoint } from './endpoint.js';

/** Error codes this driver raises on purpose. */
export const DockerErrorCode = {
  unreachable: 'DOCKER_UNREACHABLE',
  nameConflict: 'CONTAINER_NAME_CONFLICT',
  portInUse: 'PORT_IN_USE',
  imageNotFound: 'IMAGE_NOT_FOUND',
  containerNotFound: 'CONTAINER_NOT_FOUND',
  containerNotRunning: 'CONTAINER_NOT_RUNNING',
  networkNotFound: 'NETWORK_NOT_FOUND',
  networkConflict: 'NETWORK_NAME_CONFLICT',
  networkInUse: 'NETWORK_IN_USE',
  volumeInUse: 'VOLUME_IN_USE',
  pullFailed: 'PULL_FAILED',
  buildFailed: 'BUILD_FAILED',
  copyFailed: 'FILE_COPY_FAILED',
  other: 'DOCKER_ERROR',
} as const;

/** The hint of every DOCKER_UNREACHABLE error. */
export const START_DOCKER_HINT =
  'Is the Docker Engine running? start it with `dockerd &` or `systemctl start docker`, or run scripts/ensure-docker.sh; set DOCKER_HOST to use another engine.';

/** Socket errors that mean "no engine there", as opposed to a failure inside a request. */
const UNREACHABLE = new Map<string, string>([
  ['ENOENT', 'no socket at that path'],
  ['ECONNREFUSED', 'connection refused'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['ENOTFOUND', 'host not found'],
  ['EAI_AGAIN', 'host name lookup failed'],
  ['ETIMEDOUT', 'connection timed out'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
]);

/** The HTTP status of a docker-modem error, if it carries one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own message (`{"message": …}`), else the error's message without docker-modem's prefix. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: unknown } | null)?.json;
  if (json && typeof json === 'object' && 'message' in json && typeof json.message === 'string') return json.message.trim();
  if (Buffer.isBuffer(json) && json.length > 0) return json.toString('utf8').trim();
  if (typeof json === 'string' && json.trim()) return json.trim();
  const message = (error instanceof Error ? error.message : String(error)).replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  const status = statusOf(error);
  return message || (status === undefined ? 'unknown error' : `HTTP ${status} without a message`);
}

/** True for a connection-level failure (no engine listening, no permission), not a failed request. */
export function isUnreachable(error: unknown): boolean {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string' || !UNREACHABLE.has(code)) return false;
  // ENOENT/EACCES also come from the file system (a missing build context): only connect counts.
  // Node 20 reports a multi-address connect failure as an AggregateError without `syscall`.
  return syscall === 'connect' || syscall === 'getaddrinfo' || error instanceof AggregateError;
}

/** The DOCKER_UNREACHABLE error for `endpoint`. */
export function unreachableError(endpoint: DockerEndpoint, cause: unknown): RuntimeError {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? `${UNREACHABLE.get(code) ?? code} (${code})` : engineMessage(cause);
  const source = endpoint.fromEnv ? ' (from DOCKER_HOST)' : '';
  const permission =
    code === 'EACCES' || code === 'EPERM'
      ? `Your user may not use ${endpoint.socketPath ?? endpoint.url}: add it to the \`docker\` group and log in again, or run as root. `
      : '';
  return new RuntimeError(DockerErrorCode.unreachable, `Cannot reach the Docker Engine at ${endpoint.url}${source}: ${reason}`, {
    hint: permission + START_DOCKER_HINT,
    cause,
  });
}

/**
 * Translates a failure of `action` (a phrase like `create container "shop-api-1"`) into a
 * RuntimeError. FlotillaErrors pass through unchanged.
 */
export function translateDockerError(error: unknown, action: string, endpoint: DockerEndpoint): FlotillaError {
  if (error instanceof FlotillaError) return error;
  if (isUnreachable(error)) return unreachableError(endpoint, error);

  const status = statusOf(error);
  const message = engineMessage(error);
  const fail = (code: string, detail: string, hint?: string): RuntimeError =>
    new RuntimeError(code, `Cannot ${action}: ${detail}`, { hint, cause: error });

  const conflict = /container name "\/?([^"]+)" is already in use by container "([0-9a-f]+)"/i.exec(message);
  if (conflict) {
    const [, name = '', id = ''] = conflict;
    return fail(
      DockerErrorCode.nameConflict,
      `the container name "${name}" is already taken by container ${id.slice(0, 12)}`,
      `Remove that container (\`docker rm -f ${name}\`) if nothing needs it, or use another project name (-p).`,
    );
  }

  const port = hostPortOf(message);
  if (port !== undefined) {
    return fail(
      DockerErrorCode.portInUse,
      `host port ${port} is already in use`,
      `Another container or process holds port ${port}: stop it, or publish the service on another port in \`ports:\`.`,
    );
  }

  if (/no such image|pull access denied|manifest unknown|repository does not exist|not found: manifest/i.test(message)) {
    return fail(DockerErrorCode.imageNotFound, message, 'Check the image name and tag, build it, or load it with `docker load`.');
  }
  if (status === 404 && /no such container/i.test(message)) return fail(DockerErrorCode.containerNotFound, message);
  if (status === 409 && /is not running|is paused|is restarting/i.test(message)) return fail(DockerErrorCode.containerNotRunning, message);
  if (status === 404 && /network .*not found/i.test(message)) return fail(DockerErrorCode.networkNotFound, message);
  if (status === 409 && /network .*already exists/i.test(message)) return fail(DockerErrorCode.networkConflict, message);
  if (/has active endpoints/i.test(message)) {
    return fail(DockerErrorCode.networkInUse, message, 'Remove the containers attached to it first.');
  }
  if (status === 409 && /volume is in use/i.test(message)) {
    return fail(DockerErrorCode.volumeInUse, message, 'Remove the containers that mount it first.');
  }
  return fail(DockerErrorCode.other, message);
}

/** The host port named in a "port is already allocated" / "address already in use" message. */
export function hostPortOf(message: string): number | undefined {
  const match =
    /Bind for \S*:(\d+) failed: port is already allocated/i.exec(message) ??
    /listen (?:tcp|udp|sctp)[46]? \S*:(\d+): bind: address already in use/i.exec(message);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
