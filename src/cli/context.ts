import pc from 'picocolors';
import type { Driver } from '../runtime/driver.js';
import { extraLabelsFromEnv } from '../runtime/labels.js';
import type { Stack } from '../spec/types.js';

/** Options every command accepts. */
export interface GlobalOptions {
  file: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile: string[];
  profile: string[];
}

/** What a command works with: the resolved stack and a driver for the engine. */
export interface CommandContext {
  stack: Stack;
  driver: Driver;
  extraLabels: Record<string, string>;
}

/** Loads the stack (warnings go to stderr). `services` named on the command line are enabled whatever their profile. */
export async function loadStackFor(global: GlobalOptions, services: readonly string[] = []): Promise<Stack> {
  const { loadStack } = await import('../spec/index.js');
  return loadStack({
    cwd: process.cwd(),
    env: process.env,
    ...(global.file.length > 0 ? { files: global.file } : {}),
    ...(global.projectName ? { projectName: global.projectName } : {}),
    ...(global.projectDirectory ? { projectDirectory: global.projectDirectory } : {}),
    ...(global.envFile.length > 0 ? { envFiles: global.envFile } : {}),
    ...(global.profile.length > 0 ? { profiles: global.profile } : {}),
    ...(services.length > 0 ? { services: [...services] } : {}),
    onWarning: (message: string) => process.stderr.write(`${pc.yellow('warning')} ${message}\n`),
  });
}

/** Loads the stack and connects to the engine, in parallel. */
export async function commandContext(global: GlobalOptions, services: readonly string[] = []): Promise<CommandContext> {
  const [stack, driver] = await Promise.all([
    loadStackFor(global, services),
    import('../runtime/docker/index.js').then(({ createDockerDriver }) => createDockerDriver({ env: process.env })),
  ]);
  return { stack, driver, extraLabels: extraLabelsFromEnv(process.env) };
}
