/** The mesh: TCP and HTTP proxies with Toxiproxy's faults and message faults, resilience, telemetry, and a Toxiproxy-compatible control API. */
export { formatHostPort, parseHostPort, type HostPort } from './address.js';
export type { ConnectionInfo } from './connection.js';
export { MeshError } from './errors.js';
export { DEFAULT_LISTEN, ProxyRegistry, type HttpProxyDefaults, type ProxyInput, type ProxyRegistryOptions } from './proxy-registry.js';
export { PROXY_KINDS, type MeshProxy, type ProxyKind, type ProxyPatch } from './mesh-proxy.js';
export {
  DEFAULT_MAX_BODY_BUFFER,
  HttpProxy,
  parseResilience,
  startHttpProxy,
  type HttpProxyOptions,
  type HttpProxyStats,
} from './http/http-proxy.js';
export {
  createMeshToxicCatalog,
  DEFAULT_MAX_HANG_MS,
  httpMessageToxics,
  type HttpAbortAttributes,
  type HttpDelayAttributes,
  type HttpDropAttributes,
  type HttpDuplicateAttributes,
  type MessageMatch,
} from './http/message-toxics.js';
export {
  defaultResilience,
  resilienceSchema,
  type ResilienceInput,
  type ResilienceJson,
  type ResilienceSettings,
} from './http/resilience.js';
export { routeOf } from './http/route.js';
export {
  createOtlpTelemetry,
  noTelemetry,
  type MeshTelemetry,
  type OtlpTelemetryOptions,
  type RequestRecord,
} from './http/telemetry/recorder.js';
export { runMeshProxy, meshProxyConfigSchema, type MeshProxyConfig, type RunningMeshProxy } from './proxy-main.js';
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
