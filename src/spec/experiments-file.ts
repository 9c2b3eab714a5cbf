/**
 * Experiment files given to `flotilla chaos run --file`: each a mapping of name → experiment, with
 * the schema of `x-flotilla.experiments`, interpolated like a Compose file and checked with the
 * same positions and messages.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Lookup } from './interpolate.js';
import { interpolateTree } from './interpolate-tree.js';
import { formatPath, IssueCollector } from './issues.js';
import { parseYaml } from './parse-yaml.js';
import { resolveExperiments } from './resolve/experiments.js';
import { experimentsSchema } from './schema/experiments.js';
import type { ExperimentSpec } from './types.js';
import { describeNode, toPlain } from './yaml-node.js';
import { reportZodIssues } from './zod-issues.js';

/** Options of loadExperimentFiles. */
export interface ExperimentFileOptions {
  /** Relative file names are resolved against it. */
  cwd: string;
  /** Variables for `${VAR}` in the files. */
  env: Record<string, string | undefined>;
  /** Services of the stack, to check the names steps and probes use; undefined: not checked. */
  services?: Iterable<string>;
  onWarning?: (message: string) => void;
}

/** An experiment and the file it came from. */
export interface ExperimentFromFile {
  file: string;
  experiment: ExperimentSpec;
}

/** Every experiment of `files`, by name; throws a SpecError listing every problem, with file, line and key. */
export async function loadExperimentFiles(files: readonly string[], options: ExperimentFileOptions): Promise<Record<string, ExperimentFromFile>> {
  const issues = new IssueCollector();
  const services = options.services === undefined ? undefined : new Set(options.services);
  const lookup: Lookup = (name) => options.env[name];
  const out: Record<string, ExperimentFromFile> = {};
  for (const name of files) {
    const file = path.resolve(options.cwd, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(`experiment file ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`}`);
    }
    const parsed = parseYaml(text, file, issues);
    if (!parsed) continue;
    if (parsed.kind !== 'map') {
      issues.add(parsed.pos, '', `expected a mapping of experiment name → experiment, found ${describeNode(parsed)}`);
      continue;
    }
    const root = interpolateTree(parsed, [], {
      lookup,
      issues,
      onUnset: (variable, position, at) => options.onWarning?.(`${position.file}:${position.line}:${position.column} ${formatPath(at)}: variable '${variable}' is not set; using an empty string`),
    });
    const checked = experimentsSchema.safeParse(toPlain(root));
    if (!checked.success) {
      reportZodIssues(checked.error.issues, [], root, issues);
      continue;
    }
    const experiments = resolveExperiments(checked.data, [], { services, fail: (at, message, target) => issues.at(root, at, message, target) });
    for (const [key, experiment] of Object.entries(experiments)) {
      const earlier = out[key];
      if (earlier) issues.at(root, [key], `experiment '${key}' is also defined in ${earlier.file}`, 'key');
      else out[key] = { file, experiment };
    }
  }
  issues.throwIfAny();
  return out;
}
