/** The dependency map as text (edges, RED, impact) and as Graphviz DOT. */
import type { DependencyEdge, EntryPointImpact, RedReport, RedStats } from '../../telemetry/query/index.js';
import { formatMs } from './span-tree.js';
import { renderTable } from './table.js';

/** What the collector's /api/map answers. */
export interface MapReport {
  window: { since: number; until: number };
  edges: DependencyEdge[];
  red: RedReport;
  impact?: { service: string; entryPoints: EntryPointImpact[] };
}

const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;

export function renderMapText(report: MapReport): string {
  const { since, until } = report.window;
  const parts = [`Dependency map from ${new Date(since).toISOString()} to ${new Date(until).toISOString()}\n`];
  if (report.edges.length === 0 && report.red.services.length === 0) {
    parts.push('No calls in this window. Are the services instrumented and pointed at the collector (flotilla up does it)?\n');
    return parts.join('\n');
  }
  parts.push(renderTable(
    ['CALLER', '', 'CALLEE', 'CALLS', 'ERRORS', 'P50', 'P95', 'P99'],
    report.edges.map((edge) => [
      edge.source, '→', edge.via === 'peer' ? `${edge.target} (not instrumented)` : edge.target,
      String(edge.calls), percent(edge.errorRate), formatMs(edge.p50Ms), formatMs(edge.p95Ms), formatMs(edge.p99Ms),
    ]),
  ));
  const redRows = (lines: RedStats[], named: boolean) => lines.map((line) => [
    ...(named ? [line.service, line.operation ?? ''] : [line.service]),
    line.ratePerSecond.toFixed(2), String(line.calls), percent(line.errorRate), formatMs(line.p50Ms), formatMs(line.p95Ms), formatMs(line.p99Ms),
  ]);
  parts.push('Requests served (RED), per service:\n' + renderTable(['SERVICE', 'RATE/S', 'REQUESTS', 'ERRORS', 'P50', 'P95', 'P99'], redRows(report.red.services, false)));
  parts.push('Per operation:\n' + renderTable(['SERVICE', 'OPERATION', 'RATE/S', 'REQUESTS', 'ERRORS', 'P50', 'P95', 'P99'], redRows(report.red.operations, true)));
  if (report.impact) {
    const { service, entryPoints } = report.impact;
    parts.push(entryPoints.length === 0
      ? `No entry point's traces pass through ${service} in this window.\n`
      : `If ${service} fails, these entry points suffer:\n` + renderTable(
        ['ENTRY POINT', 'TRACES THROUGH ' + service.toUpperCase(), 'FAILED AT THE ENTRY', `WITH ${service.toUpperCase()} FAILING`],
        entryPoints.map((entry) => [`${entry.service}: ${entry.operation}`, String(entry.traces), String(entry.errored), String(entry.serviceErrored)]),
      ));
  }
  return parts.join('\n');
}

/** Graphviz DOT: services as boxes, uninstrumented peers as cylinders, edges labelled with calls, errors and p95. */
export function renderMapDot(report: MapReport): string {
  const quote = (text: string) => `"${text.replace(/["\\]/g, '\\$&')}"`;
  const peers = new Set(report.edges.filter((edge) => edge.via === 'peer').map((edge) => edge.target));
  const nodes = new Set([...report.red.services.map((line) => line.service), ...report.edges.flatMap((edge) => [edge.source, edge.target])]);
  const lines = ['digraph flotilla {', '  rankdir=LR;', '  node [shape=box, fontname="sans-serif"];'];
  for (const node of [...nodes].sort()) lines.push(`  ${quote(node)}${peers.has(node) ? ' [shape=cylinder]' : ''};`);
  for (const edge of report.edges) {
    const label = `${edge.calls} calls, ${percent(edge.errorRate)} err, p95 ${formatMs(edge.p95Ms)}`;
    lines.push(`  ${quote(edge.source)} -> ${quote(edge.target)} [label=${quote(label)}${edge.errorRate > 0 ? ', color=red' : ''}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
