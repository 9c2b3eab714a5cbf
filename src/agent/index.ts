/** The log-shipping agent: follows container logs, queues them on disk, pushes them as OTLP. */
export { startAgent } from './agent.js';
export { DEFAULT_ENDPOINT, otlpHeadersFromEnv, resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './options.js';
export type { AgentEvent, AgentEventListener, AgentHandle, AgentStats } from './types.js';
export type { DropReason } from './agent-store.js';
export { encodeLogRecord, encodeLogsRequest, encodeResource, type LogRecordInput } from './otlp-encode.js';
export { parseLogLine, type ParsedLine } from './parse-line.js';
