/** What the agent reports: its counts, and events as they happen. */
import type { DropReason } from './agent-store.js';

/** Counts since the state file was created (they survive restarts), and what runs now. */
export interface AgentStats {
  /** Lines read from containers. */
  received: number;
  /** Records written to the queue. */
  queued: number;
  /** Records the endpoint acknowledged. */
  shipped: number;
  /** Records dropped, by reason; every record is counted once in `queued` or here (except `rejected`, which were queued first). */
  dropped: Record<DropReason, number>;
  /** Records waiting in the queue now. */
  inQueue: number;
  /** Containers whose logs are followed now. */
  following: number;
}

/** Progress and trouble, for a CLI or a server log; the agent itself never prints. */
export type AgentEvent =
  | { type: 'follow'; containerId: string; container: string; service: string; project: string }
  | { type: 'unfollow'; containerId: string; container: string }
  | { type: 'shipped'; records: number; rejected: number; message: string }
  | { type: 'refused'; records: number; message: string }
  | { type: 'retry'; reason: string; delayMs: number }
  | { type: 'dropped'; reason: DropReason; records: number }
  | { type: 'warning'; message: string };

/** Receives AgentEvents. */
export type AgentEventListener = (event: AgentEvent) => void;

/** A running agent. */
export interface AgentHandle {
  /** Counts now (cheap; reads the state file's counters). */
  stats(): AgentStats;
  /** Stops following, queues what was read, ships what it can within a short grace, and closes the state file; queued records stay queued. */
  stop(): Promise<void>;
}
