/**
 * The plan of an experiment, as data with a stable text form: what is checked, when each step is
 * applied and undone, what load runs. The runner follows it; `chaos run --dry-run`-style output
 * and tests read it.
 */
import { parseDuration } from '../spec/duration.js';
import type { ActionLength, ActionSpec, ExperimentSpec, RollbackSpec } from '../spec/types.js';
import { plannedRequests } from './load.js';

/** One step, when it starts (ms after the method starts) and how it ends. */
export interface PlannedStep {
  index: number;
  step: ActionSpec;
  atMs: number;
  /** `duration`: undone after so long; `requests`: after the load sent so many more; `end`: at rollback; `once`: nothing to undo. */
  ends: { kind: 'duration'; ms: number } | { kind: 'requests'; count: number } | { kind: 'end' } | { kind: 'once' };
  description: string;
}

/** Steps in the order they start (ties: as written). */
export function planSteps(experiment: ExperimentSpec): PlannedStep[] {
  return experiment.method
    .map((step, index): PlannedStep => ({ index, step, atMs: parseDuration(step.at), ends: endOf(step), description: describeStep(step) }))
    .sort((a, b) => a.atMs - b.atMs || a.index - b.index);
}

function endOf(step: ActionSpec): PlannedStep['ends'] {
  if (step.kind === 'container' && step.action !== 'pause') return { kind: 'once' };
  return lengthEnd(step.length);
}

function lengthEnd(length: ActionLength): PlannedStep['ends'] {
  if ('duration' in length) return { kind: 'duration', ms: parseDuration(length.duration) };
  if ('requests' in length) return { kind: 'requests', count: length.requests };
  return { kind: 'end' };
}

/** One line for a step: `pause inventory (every replica) for 5s`. */
export function describeStep(step: ActionSpec): string {
  const who = (service: string, replica: number | undefined) => (replica === undefined ? service : `${service} replica ${replica}`);
  const length = lengthText(step.kind === 'container' && step.action !== 'pause' ? undefined : step.length);
  switch (step.kind) {
    case 'fault': {
      const { toxic } = step;
      const attributes = Object.entries(toxic.attributes).map(([key, value]) => `${key}=${String(value)}`).join(' ');
      const chance = toxic.toxicity === 1 ? '' : ` on ${Math.round(toxic.toxicity * 1000) / 10}% of ${toxic.type.startsWith('http_') ? 'requests' : 'connections'}`;
      return `fault ${toxic.type}${attributes ? ` (${attributes})` : ''} ${toxic.stream} of ${step.service}${chance} as ${toxic.name}${length}`;
    }
    case 'container':
      return `${step.action}${step.signal ? ` (${step.signal})` : ''} ${who(step.service, step.replica)}${length}`;
    case 'network':
      return `cut ${who(step.service, step.replica)} off its networks${length}`;
  }
}

/** One line for a rollback. */
export function describeRollback(rollback: RollbackSpec): string {
  if (rollback.kind === 'container') {
    const who = rollback.replica === undefined ? rollback.service : `${rollback.service} replica ${rollback.replica}`;
    return `${rollback.action}${rollback.signal ? ` (${rollback.signal})` : ''} ${who}`;
  }
  // Commands run in one replica, the first unless another is named.
  return `run \`${rollback.run.join(' ')}\` in ${rollback.replica === 1 ? rollback.service : `${rollback.service} replica ${rollback.replica}`}`;
}

function lengthText(length: ActionLength | undefined): string {
  if (length === undefined) return '';
  if ('duration' in length) return ` for ${length.duration}`;
  if ('requests' in length) return ` for ${length.requests} requests of the load`;
  return ' until the end';
}

/** The plan as text, one line per item, stable for a given experiment. */
export function planText(experiment: ExperimentSpec): string {
  const lines = [`experiment ${experiment.name}${experiment.description ? `: ${experiment.description}` : ''}`];
  for (const probe of experiment.hypothesis) lines.push(`  check before  ${probe.name}`);
  if (experiment.load) {
    const { load } = experiment;
    lines.push(`  load          ${load.request.method} ${load.request.url} at ${load.rate}/s for ${load.duration} (at most ${plannedRequests(load)} requests, ${load.concurrency} at once)`);
  }
  for (const planned of planSteps(experiment)) lines.push(`  at ${pad(planned.step.at)}${planned.description}`);
  if (parseDuration(experiment.settle) > 0) lines.push(`  settle        ${experiment.settle}`);
  for (const probe of experiment.hypothesis) lines.push(`  check after   ${probe.name}`);
  lines.push('  undo          every fault, pause and network cut still in place');
  experiment.rollbacks.forEach((rollback) => lines.push(`  rollback      ${describeRollback(rollback)}`));
  return `${lines.join('\n')}\n`;
}

function pad(text: string): string {
  return text.length >= 10 ? `${text} ` : text.padEnd(11);
}
