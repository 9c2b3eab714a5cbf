/**
 * Errors of the mesh control plane. Each carries the HTTP status Toxiproxy answers with and its
 * exact message text, so the API can render `{"error": …, "status": …}` the way Toxiproxy clients expect.
 */
import { FlotillaError, type FlotillaErrorOptions } from '../core/errors.js';

/** A refused mesh operation: bad input, unknown or duplicate name, a port that cannot be bound. */
export class MeshError extends FlotillaError {
  override readonly name = 'MeshError';
  /** The HTTP status Toxiproxy uses for this error. */
  readonly status: number;

  constructor(code: string, message: string, status: number, options: FlotillaErrorOptions = {}) {
    super(code, message, options);
    this.status = status;
  }
}

/** `bad request body: <detail>` (400), Toxiproxy's wording for any malformed or invalid body. */
export function badRequest(detail: string, options: FlotillaErrorOptions = {}): MeshError {
  return new MeshError('MESH_BAD_REQUEST', `bad request body: ${detail}`, 400, options);
}

/** `missing required field: <field>` (400). */
export function missingField(field: string): MeshError {
  return new MeshError('MESH_MISSING_FIELD', `missing required field: ${field}`, 400);
}

/** `proxy not found` (404). */
export function proxyNotFound(name: string): MeshError {
  return new MeshError('MESH_PROXY_NOT_FOUND', 'proxy not found', 404, { hint: `No proxy is named "${name}"; GET /proxies lists them.` });
}

/** `proxy already exists` (409). */
export function proxyExists(name: string): MeshError {
  return new MeshError('MESH_PROXY_EXISTS', 'proxy already exists', 409, {
    hint: `A proxy named "${name}" exists; update it with POST /proxies/${name}, or use POST /populate to create-or-replace.`,
  });
}

/** `toxic not found` (404). */
export function toxicNotFound(name: string): MeshError {
  return new MeshError('MESH_TOXIC_NOT_FOUND', 'toxic not found', 404, { hint: `No toxic is named "${name}" on this proxy.` });
}

/** `toxic already exists` (409). */
export function toxicExists(name: string): MeshError {
  return new MeshError('MESH_TOXIC_EXISTS', 'toxic already exists', 409, {
    hint: `A toxic named "${name}" exists on this proxy; update it with POST …/toxics/${name}, or give the new one another name.`,
  });
}

/** `stream was invalid, can be either upstream or downstream` (400). */
export function invalidStream(): MeshError {
  return new MeshError('MESH_INVALID_STREAM', 'stream was invalid, can be either upstream or downstream', 400);
}

/** `invalid toxic type` (400). */
export function invalidToxicType(type: string, known: readonly string[]): MeshError {
  return new MeshError('MESH_INVALID_TOXIC_TYPE', 'invalid toxic type', 400, { hint: `"${type}" is not one of: ${known.join(', ')}.` });
}

/** A listener that cannot be opened (port taken, address not local): 500, as Toxiproxy answers. */
export function listenFailed(listen: string, cause: unknown): MeshError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new MeshError('MESH_LISTEN_FAILED', `listen tcp ${listen}: ${detail}`, 500, {
    cause,
    hint: 'Pick another port, or port 0 for any free one.',
  });
}
