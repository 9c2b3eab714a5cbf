/** What an experiment run reports: the verdict and its evidence, as data (text and JSON are renderings of it). */

/** `passed`: the hypothesis held before and after; `failed`: before, not after; `aborted`: the method was not (fully) applied. */
export type Verdict = 'passed' | 'failed' | 'aborted';

/** The phase a probe ran in. */
export type ProbePhase = 'before' | 'after';

/** One probe's outcome: the value it saw against what was expected. */
export interface ProbeResult {
  name: string;
  kind: 'http' | 'collector' | 'command';
  phase: ProbePhase;
  ok: boolean;
  /** What was seen: a status and excerpt, a figure, an exit code; null when nothing could be read. */
  value: string | number | null;
  /** What was expected, in words: `status 200`, `< 0.05`, `exit code 0`. */
  expected: string;
  /** Why it did not hold, when it did not. */
  detail?: string;
  /** ISO time the probe started. */
  at: string;
  durationMs: number;
}

/** What happened to one step of the method, one automatic undo, or one rollback. */
export interface ActionRecord {
  /** `method[0]`, `rollbacks[1]`. */
  step: string;
  kind: 'fault' | 'container' | 'network' | 'command';
  /** One line: `pause containers of inventory for 5s`. */
  description: string;
  status: 'applied' | 'reverted' | 'done' | 'failed' | 'skipped';
  /** Containers (names) or proxy the action touched. */
  targets: string[];
  /** ISO times. */
  appliedAt?: string;
  revertedAt?: string;
  error?: string;
}

/** Load statistics: how many requests, which answers, how fast. */
export interface LoadStats {
  /** The most the load could send: ceil(rate × duration). */
  planned: number;
  sent: number;
  completed: number;
  /** Requests that got no HTTP answer (timeout, refused, reset). */
  errors: number;
  /** Count per HTTP status (`"200"`) or per failure (`"timeout"`, `"refused"`, `"reset"`, `"error"`). */
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  durationMs: number;
}

/** The whole evidence of one run. */
export interface ExperimentReport {
  experiment: string;
  description?: string;
  verdict: Verdict;
  /** One sentence: why this verdict. */
  reason: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  hypothesis: { before: ProbeResult[]; after: ProbeResult[] };
  method: ActionRecord[];
  load?: LoadStats;
  /** Automatic undos (faults removed, containers unpaused, networks reconnected), then the declared rollbacks. */
  rollbacks: ActionRecord[];
  /** Everything that went wrong besides the hypothesis (a step that failed, a rollback that failed). */
  errors: string[];
}

/** Progress, as it happens, for a renderer to show. */
export type ChaosEvent =
  | { type: 'phase'; phase: 'preflight' | 'before' | 'method' | 'settle' | 'after' | 'rollback'; detail?: string }
  | { type: 'probe'; result: ProbeResult }
  | { type: 'action'; record: ActionRecord; change: 'applied' | 'reverted' | 'done' | 'failed' }
  | { type: 'load'; stats: LoadStats };
