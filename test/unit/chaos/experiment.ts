/** Experiments for tests, written as users write them: YAML through the real loader. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadExperimentFiles } from '../../../src/spec/index.js';
import type { ExperimentSpec } from '../../../src/spec/types.js';

/** The one experiment of `yaml` (a file of name → experiment), checked against `services`. */
export async function experimentFrom(yaml: string, services: string[] = ['api', 'db']): Promise<ExperimentSpec> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flotilla-chaos-'));
  try {
    await writeFile(path.join(dir, 'experiments.yaml'), yaml);
    const loaded = await loadExperimentFiles(['experiments.yaml'], { cwd: dir, env: {}, services });
    const [first] = Object.values(loaded);
    if (!first) throw new Error('no experiment in the YAML');
    return first.experiment;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
