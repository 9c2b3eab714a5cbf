/**
 * Where the driver talks to: DOCKER_HOST (unix:// or tcp://, TLS with DOCKER_TLS_VERIFY) or the
 * default socket. Resolved from the env the driver was given, never from process.env, so a
 * caller (and a test) decides which engine is used.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { RuntimeError } from '../../core/errors.js';

/** The default socket when DOCKER_HOST is unset. */
export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** A resolved engine endpoint. */
export interface DockerEndpoint {
  /** As messages show it: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`. */
  url: string;
  /** True when the endpoint came from DOCKER_HOST (messages then say so). */
  fromEnv: boolean;
  /** The socket path for unix endpoints, for messages. */
  socketPath?: string;
  /** Options for `new Dockerode()`. */
  options: Dockerode.DockerOptions;
}

/** Resolves DOCKER_HOST (and the TLS variables) from `env`; throws a RuntimeError for unsupported forms. */
export function resolveEndpoint(env: Record<string, string | undefined>): DockerEndpoint {
  const raw = env['DOCKER_HOST']?.trim();
  if (!raw) return unixEndpoint(DEFAULT_SOCKET, false);

  if (raw.startsWith('unix://')) return unixEndpoint(raw.slice('unix://'.length) || DEFAULT_SOCKET, true);

  const withScheme = raw.includes('://') ? raw : `tcp://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    throw invalidHost(raw, cause);
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RuntimeError('DOCKER_HOST_UNSUPPORTED', `DOCKER_HOST=${raw} uses a scheme Flotilla does not support (${url.protocol.replace(/:$/, '')})`, {
      hint: 'Use unix:///path/to/docker.sock or tcp://host:port; for ssh:// engines, forward the socket with `ssh -L` and point DOCKER_HOST at it.',
    });
  }
  if (!url.hostname) throw invalidHost(raw);

  const tls = Boolean(env['DOCKER_TLS_VERIFY']) || url.protocol === 'https:' || url.port === '2376';
  const port = url.port || (tls ? '2376' : '2375');
  const options: Dockerode.DockerOptions = {
    ...CLEARED_DEFAULTS,
    host: url.hostname,
    port,
    protocol: tls ? 'https' : 'http',
  };
  if (tls) Object.assign(options, readTlsFiles(env));
  return { url: `tcp://${url.hostname}:${port}`, fromEnv: true, options };
}

/**
 * docker-modem fills its defaults from process.env.DOCKER_HOST and merges ours over them; every
 * field it could take from there is set explicitly so the env we were given is the only input.
 */
const CLEARED_DEFAULTS: Dockerode.DockerOptions = {
  socketPath: undefined,
  host: undefined,
  port: undefined,
  protocol: undefined,
  ca: undefined,
  cert: undefined,
  key: undefined,
  timeout: undefined,
};

function unixEndpoint(socketPath: string, fromEnv: boolean): DockerEndpoint {
  return {
    url: `unix://${socketPath}`,
    fromEnv,
    socketPath,
    options: { ...CLEARED_DEFAULTS, socketPath, protocol: 'http' },
  };
}

function readTlsFiles(env: Record<string, string | undefined>): Pick<Dockerode.DockerOptions, 'ca' | 'cert' | 'key'> {
  const dir = env['DOCKER_CERT_PATH'] || join(env['HOME'] ?? homedir(), '.docker');
  try {
    return {
      ca: readFileSync(join(dir, 'ca.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
      key: readFileSync(join(dir, 'key.pem')),
    };
  } catch (cause) {
    throw new RuntimeError('DOCKER_TLS_CONFIG', `Cannot read the TLS client files for DOCKER_HOST from ${dir}`, {
      hint: 'Put ca.pem, cert.pem and key.pem there, set DOCKER_CERT_PATH to their directory, or unset DOCKER_TLS_VERIFY.',
      cause,
    });
  }
}

function invalidHost(raw: string, cause?: unknown): RuntimeError {
  return new RuntimeError('DOCKER_HOST_INVALID', `DOCKER_HOST=${raw} is not a valid engine address`, {
    hint: 'Expected unix:///path/to/docker.sock or tcp://host:port.',
    cause,
  });
}
