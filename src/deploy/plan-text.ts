import type { Operation, Plan } from './plan.js';

const VERB: Record<Operation['type'], string> = {
  'pull-image': 'pull',
  'build-image': 'build',
  'create-network': 'create',
  'create-volume': 'create',
  'create-container': 'create',
  'recreate-container': 'recreate',
  'start-container': 'start',
  'restart-container': 'restart',
  'stop-container': 'stop',
  'remove-container': 'remove',
  'remove-network': 'remove',
  'remove-volume': 'remove',
};

/**
 * The stable text form of a plan, printed by `--dry-run` and compared by golden tests:
 * one line per operation, `verb resource (cause)`; a service's first line names what it waits for.
 */
export function planText(plan: Plan): string {
  const lines: string[] = [];
  for (const op of plan.prepare) lines.push(line(op));
  for (const steps of plan.services) {
    const waits = steps.waitFor.map((wait) => `${wait.service} ${wait.condition.replace('service_', '')}`);
    steps.operations.forEach((op, index) => {
      lines.push(index === 0 && waits.length > 0 ? `${line(op)} after ${waits.join(', ')}` : line(op));
    });
  }
  plan.cleanup.forEach((phase) => phase.forEach((op) => lines.push(line(op))));
  for (const orphan of plan.orphans) lines.push(`orphan container ${orphan} (use --remove-orphans to remove it)`);
  if (lines.length === 0) return `project ${plan.project}: nothing to do\n`;
  return `project ${plan.project}:\n${lines.map((text) => `  ${text}`).join('\n')}\n`;
}

function line(op: Operation): string {
  return `${VERB[op.type].padEnd(8)} ${op.resource} (${op.cause})`;
}
