/**
 * The toxics of an HTTP proxy: only the message-level ones. Connection toxics act on a TCP
 * connection's bytes, which an HTTP proxy never pumps through a link, so adding one is refused
 * (400, saying where they do apply) instead of accepted and silently never applied.
 */
import { MeshError } from '../errors.js';
import { ToxicCollection, type Toxic, type ToxicInput } from '../toxic-collection.js';
import { connectionToxics, type ToxicCatalog } from '../toxics/catalog.js';

/** The message-level part of a catalog. */
export function messageCatalog(catalog: ToxicCatalog): ToxicCatalog {
  return new Map([...catalog].filter(([, definition]) => definition.level === 'message'));
}

/** `connection toxics apply to tcp listeners` (400): a connection toxic offered to an HTTP proxy. */
export function connectionToxicOnHttp(type: string, connectionTypes: readonly string[], messageTypes: readonly string[]): MeshError {
  return new MeshError(
    'MESH_CONNECTION_TOXIC_ON_HTTP',
    `invalid toxic type: ${type} is a connection toxic, and connection toxics (${connectionTypes.join(', ')}) apply to tcp listeners; this proxy is http and takes ${messageTypes.join(', ')}`,
    400,
    { hint: `Add ${type} to the service's tcp proxy, or use a message fault here (http_delay for latency, http_drop for resets and timeouts).` },
  );
}

/** A ToxicCollection that takes the message toxics of `catalog` and refuses its connection toxics by name. */
export class HttpToxicCollection extends ToxicCollection {
  private readonly connectionTypes: readonly string[];
  private readonly messageTypes: readonly string[];

  constructor(catalog: ToxicCatalog) {
    const messages = messageCatalog(catalog);
    super(messages);
    this.messageTypes = [...messages.keys()];
    this.connectionTypes = [...new Set([...Object.keys(connectionToxics), ...[...catalog].filter(([, definition]) => definition.level === 'connection').map(([type]) => type)])];
  }

  override add(input: ToxicInput): Toxic {
    const type = input.type ?? '';
    if (this.connectionTypes.includes(type)) throw connectionToxicOnHttp(type, this.connectionTypes, this.messageTypes);
    return super.add(input);
  }
}
