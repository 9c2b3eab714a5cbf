/** The mesh: TCP proxies with Toxiproxy's faults, and a Toxiproxy-compatible control API. */
export { formatHostPort, parseHostPort, type HostPort } from './address.js';
export type { ConnectionInfo } from './connection.js';
export { MeshError } from './errors.js';
export { DEFAULT_LISTEN, ProxyRegistry, type ProxyInput, type ProxyRegistryOptions } from './proxy-registry.js';
export {
  DEFAULT_BUFFER_BYTES,
  startTcpProxy,
  TcpProxy,
  type ProxyJson,
  type TcpProxyOptions,
  type TcpProxyPatch,
  type TcpProxyStats,
} from './tcp-proxy.js';
export {
  toxicToJson,
  ToxicCollection,
  type Toxic,
  type ToxicInput,
  type ToxicJson,
  type ToxicListener,
  type ToxicPatch,
} from './toxic-collection.js';
export {
  createToxiproxyApp,
  startToxiproxyApi,
  TOXIPROXY_API_VERSION,
  TOXIPROXY_DEFAULT_PORT,
  type ProxyWithToxicsJson,
  type StartedToxiproxyApi,
  type ToxiproxyApiOptions,
  type ToxiproxyAppOptions,
} from './toxiproxy-api.js';
export { connectionToxics, createToxicCatalog, type ToxicCatalog } from './toxics/catalog.js';
export {
  defineConnectionToxic,
  type Chunk,
  type ConnectionToxic,
  type Emit,
  type MessageToxic,
  type StreamDirection,
  type ToxicContext,
  type ToxicDefinition,
} from './toxics/types.js';
