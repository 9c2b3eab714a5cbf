import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI: integration tests drive Flotilla exactly as a user does. */
export const CLI = fileURLToPath(new URL('../../../dist/bin/flotilla.cjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for every CLI run: the test-run label goes on everything Flotilla creates. */
export function cliEnv(runId: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, FLOTILLA_EXTRA_LABELS: `dev.flotilla.test-run=${runId}`, NO_COLOR: '1', ...extra };
}

/** Starts the CLI without waiting for it, for tests that interrupt it. */
export function startCli(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliResult> {
  return startCli(args, options).done;
}

/** A fresh directory holding one compose.yaml. */
export function stackDir(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-it-'));
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return dir;
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
