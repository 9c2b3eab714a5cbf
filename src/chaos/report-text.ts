/** The report and the progress of a run as text for people; the JSON output is the report itself. */
import type { ActionRecord, ChaosEvent, ExperimentReport, LoadStats, ProbeResult } from './types.js';

const PHASES: Record<string, string> = {
  preflight: 'checking the mesh and the containers the method needs',
  before: 'checking the hypothesis before the method',
  method: 'applying the method',
  settle: 'letting the system settle',
  after: 'checking the hypothesis after the method',
  rollback: 'rolling back',
};

/** One progress line for an event (no newline), or undefined for events not worth a line. */
export function progressLine(event: ChaosEvent): string | undefined {
  switch (event.type) {
    case 'phase':
      return `» ${PHASES[event.phase] ?? event.phase}${event.detail ? ` (${event.detail})` : ''}`;
    case 'probe':
      return `  ${probeLine(event.result)}`;
    case 'action': {
      const { record } = event;
      const what = event.change === 'reverted' ? `undone: ${record.description}` : record.description;
      const mark = event.change === 'failed' ? '✘' : '✔';
      return `  ${mark} ${record.step} ${what}${record.targets.length > 0 ? ` [${record.targets.join(', ')}]` : ''}${event.change === 'failed' && record.error ? `: ${record.error}` : ''}`;
    }
    case 'load':
      return `  load: ${loadLine(event.stats)}`;
  }
}

/** The whole report, ending with the verdict. */
export function renderReportText(report: ExperimentReport): string {
  const lines: string[] = [`Experiment ${report.experiment}${report.description ? ` — ${report.description}` : ''}`, `  ${report.startedAt} → ${report.endedAt} (${formatMs(report.durationMs)})`, ''];
  const section = (title: string, items: string[]) => {
    lines.push(title);
    lines.push(...(items.length > 0 ? items.map((item) => `  ${item}`) : ['  (none)']));
    lines.push('');
  };
  section('Hypothesis before:', report.hypothesis.before.map(probeLine));
  section('Method:', report.method.map(actionLine));
  if (report.load) section('Load:', [loadLine(report.load)]);
  section('Hypothesis after:', report.hypothesis.after.map(probeLine));
  section('Rollback:', report.rollbacks.map(actionLine));
  if (report.errors.length > 0) section('Errors:', report.errors);
  lines.push(`Verdict: ${report.verdict.toUpperCase()} — ${report.reason}`);
  return `${lines.join('\n')}\n`;
}

function probeLine(result: ProbeResult): string {
  const value = result.value === null ? 'nothing' : String(result.value);
  return `${result.ok ? '✔' : '✘'} ${result.name}: ${value} (expected ${result.expected})${!result.ok && result.detail ? ` — ${result.detail}` : ''}`;
}

function actionLine(record: ActionRecord): string {
  const mark = record.status === 'failed' ? '✘' : record.status === 'skipped' ? '-' : '✔';
  const times = [record.appliedAt ? `at ${record.appliedAt}` : '', record.revertedAt ? `undone ${record.revertedAt}` : ''].filter(Boolean).join(', ');
  const targets = record.targets.length > 0 ? ` [${record.targets.join(', ')}]` : '';
  return `${mark} ${record.step} ${record.description}${targets}${times ? ` (${times})` : ''}${record.error ? `: ${record.error}` : ''}`;
}

function loadLine(stats: LoadStats): string {
  const statuses = Object.entries(stats.statuses).map(([status, count]) => `${status}×${count}`).join(' ');
  return `${stats.sent}/${stats.planned} requests sent, ${stats.completed} ended (${statuses || 'none'}), ${stats.errors} without an answer, p50 ${formatMs(stats.p50Ms)}, p99 ${formatMs(stats.p99Ms)}, in ${formatMs(stats.durationMs)}`;
}

function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)}ms`;
}
