/** A trace drawn as a tree of spans with a timeline: where the time went, at a glance. */
import pc from 'picocolors';
import type { SpanRecord } from '../../telemetry/types.js';

const BAR_WIDTH = 32;

interface Node {
  span: SpanRecord;
  children: Node[];
}

/** Text lines for the spans of one trace: a header, then each span under its parent, with offset, bar and duration. */
export function renderSpanTree(traceId: string, spans: readonly SpanRecord[], color = false): string {
  const paint = color ? pc : { dim: String, red: String, cyan: String, bold: String };
  const byId = new Map<string, Node>(spans.map((span) => [span.spanId, { span, children: [] }]));
  const roots: Node[] = [];
  // Spans arrive sorted by start; a span whose parent is missing (not yet arrived, or evicted) is drawn at the top level.
  for (const node of byId.values()) {
    const parent = node.span.parentSpanId ? byId.get(node.span.parentSpanId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const start = minBig(spans.map((span) => BigInt(span.startTimeUnixNano)));
  const end = maxBig(spans.map((span) => BigInt(span.endTimeUnixNano)));
  const total = Number(end - start) || 1;
  const services = new Set(spans.map((span) => span.service));
  const errors = spans.filter((span) => span.status === 'ERROR').length;

  const rows: { label: string; bar: string; duration: string; error: boolean }[] = [];
  const walk = (node: Node, prefix: string, last: boolean, depth: number): void => {
    const { span } = node;
    const branch = depth === 0 ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
    const offset = Number(BigInt(span.startTimeUnixNano) - start);
    const length = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano));
    const from = Math.min(BAR_WIDTH - 1, Math.floor((offset / total) * BAR_WIDTH));
    const width = Math.max(1, Math.round((length / total) * BAR_WIDTH));
    rows.push({
      label: `${branch}${span.service}: ${span.name}${span.kind === 'CLIENT' || span.kind === 'SERVER' ? ` [${span.kind.toLowerCase()}]` : ''}`,
      bar: `${' '.repeat(from)}${'█'.repeat(Math.min(width, BAR_WIDTH - from))}`.padEnd(BAR_WIDTH),
      duration: `${formatMs(length / 1e6)}${span.status === 'ERROR' ? ` ERROR${span.statusMessage ? ` ${span.statusMessage}` : ''}` : ''}`,
      error: span.status === 'ERROR',
    });
    const childPrefix = depth === 0 ? '' : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((child, index) => walk(child, childPrefix, index === node.children.length - 1, depth + 1));
  };
  roots.forEach((root, index) => walk(root, '', index === roots.length - 1, 0));

  const width = Math.max(...rows.map((row) => row.label.length));
  const header = `${paint.bold(`trace ${traceId}`)}  ${spans.length} span${spans.length === 1 ? '' : 's'}, ${services.size} service${services.size === 1 ? '' : 's'}, ${formatMs(total / 1e6)}${errors ? paint.red(`, ${errors} failed`) : ''}`;
  const lines = rows.map((row) => {
    const text = `${row.label.padEnd(width)}  ${paint.cyan(row.bar)}  ${row.duration}`;
    return row.error ? paint.red(text) : text;
  });
  return `${[header, ...lines].join('\n')}\n`;
}

/** Milliseconds as people read them: 0.42 ms, 12.3 ms, 1.25 s. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

const minBig = (values: bigint[]): bigint => values.reduce((a, b) => (b < a ? b : a));
const maxBig = (values: bigint[]): bigint => values.reduce((a, b) => (b > a ? b : a));
