import { ExitCode } from '../../core/errors.js';
import { requireCollector } from '../collector-client.js';
import { renderMapDot, renderMapText, type MapReport } from '../output/dependency-map.js';

interface MapCliOptions {
  since: string;
  until?: string;
  service?: string;
  output: 'text' | 'dot' | 'json';
}

/** `flotilla map`: the service dependency graph over a window, with RED per service and operation and, for --service, its impact. */
export async function run(options: MapCliOptions): Promise<number> {
  const collector = requireCollector('flotilla map');
  const report = await collector.get<MapReport>('/api/map', { since: options.since, until: options.until, service: options.service });
  if (options.output === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (options.output === 'dot') process.stdout.write(renderMapDot(report));
  else process.stdout.write(renderMapText(report));
  return ExitCode.ok;
}
