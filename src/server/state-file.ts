/**
 * Where a running `flotilla serve` says how to reach it: serve.json in Flotilla's per-user state
 * directory, mode 0600 because it holds the API token. The CLI reads it to query the collector.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { processAlive } from '../core/process.js';

/** Flotilla's per-user state directory: FLOTILLA_STATE_DIR, else $XDG_STATE_HOME/flotilla, else ~/.local/state/flotilla. */
export function userStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['FLOTILLA_STATE_DIR']) return path.resolve(env['FLOTILLA_STATE_DIR']);
  const base = env['XDG_STATE_HOME'] ? path.resolve(env['XDG_STATE_HOME']) : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'flotilla');
}

const ServeState = z.object({
  pid: z.number().int().positive(),
  /** Base URL of the API and OTLP receiver on the loopback address. */
  url: z.url(),
  token: z.string().min(16),
  /** Every address:port it listens on. */
  listening: z.array(z.string()),
  dataDir: z.string(),
  startedAt: z.string(),
});
export type ServeState = z.infer<typeof ServeState>;

export function serveStateFile(stateDir: string): string {
  return path.join(stateDir, 'serve.json');
}

/** Writes the state file whole (temporary file, then rename), readable by its owner only. */
export function writeServeState(stateDir: string, state: ServeState): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = serveStateFile(stateDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The state of the serve that wrote the file, when the file exists, parses, and its process is alive. */
export function readServeState(stateDir: string): ServeState | undefined {
  let text: string;
  try {
    text = readFileSync(serveStateFile(stateDir), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const state = ServeState.safeParse(parsed);
  if (!state.success || !processAlive(state.data.pid)) return undefined;
  return state.data;
}

/** Removes the state file if it still describes process `pid` (a newer serve may have replaced it). */
export function removeServeState(stateDir: string, pid: number): void {
  try {
    const current = JSON.parse(readFileSync(serveStateFile(stateDir), 'utf8')) as { pid?: unknown };
    if (current.pid === pid) rmSync(serveStateFile(stateDir), { force: true });
  } catch {
    // Gone or unreadable: nothing of ours to remove.
  }
}
