/** The verdict from what happened, as a pure function; and the exit code a CI job gets from it. */
import type { ExperimentReport, ProbeResult, Verdict } from './types.js';

/** What the verdict depends on. */
export interface Outcome {
  before: readonly ProbeResult[];
  /** Undefined when the after-check did not run. */
  after: readonly ProbeResult[] | undefined;
  /** The step or phase that failed, when one did. */
  methodError?: string;
  interrupted: boolean;
}

/** `aborted` when the steady state was not there to begin with, or the method did not run to its end; else `passed` or `failed` by the after-check. */
export function decideVerdict(outcome: Outcome): { verdict: Verdict; reason: string } {
  const failing = (probes: readonly ProbeResult[]) => probes.filter((probe) => !probe.ok).map((probe) => probe.name);
  const before = failing(outcome.before);
  if (before.length > 0) return { verdict: 'aborted', reason: `the hypothesis did not hold before the method (${before.join('; ')}), so nothing was applied` };
  if (outcome.interrupted) return { verdict: 'aborted', reason: 'interrupted before the experiment ended' };
  if (outcome.methodError !== undefined) return { verdict: 'aborted', reason: `the method could not be applied: ${outcome.methodError}` };
  if (outcome.after === undefined) return { verdict: 'aborted', reason: 'the hypothesis was not checked after the method' };
  const after = failing(outcome.after);
  if (after.length > 0) return { verdict: 'failed', reason: `the hypothesis held before the method but not after it (${after.join('; ')})` };
  if (outcome.before.length === 0) return { verdict: 'passed', reason: 'the method ran to its end (the experiment has no hypothesis to check)' };
  return { verdict: 'passed', reason: 'the hypothesis held before and after the method' };
}

/** 0 passed (with every rollback done), 1 otherwise. */
export function exitCodeFor(report: Pick<ExperimentReport, 'verdict' | 'errors'>): number {
  return report.verdict === 'passed' && report.errors.length === 0 ? 0 : 1;
}
