import { ExitCode } from '../../core/errors.js';
import type { SpanRecord } from '../../telemetry/types.js';
import { requireCollector } from '../collector-client.js';
import { renderSpanTree } from '../output/span-tree.js';

/** `flotilla traces show TRACE_ID`: the span tree of one trace, with timings. */
export async function run(traceId: string, options: { output: 'text' | 'json' }): Promise<number> {
  const collector = requireCollector('flotilla traces show');
  const { spans } = await collector.get<{ spans: SpanRecord[] }>(`/api/traces/${encodeURIComponent(traceId)}`);
  if (options.output === 'json') process.stdout.write(`${JSON.stringify({ traceId, spans }, null, 2)}\n`);
  else process.stdout.write(renderSpanTree(traceId.toLowerCase(), spans, process.stdout.isTTY === true));
  return ExitCode.ok;
}
