/** Test helpers: write a project to a temporary directory, load it, and read errors as text. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { SpecError, type SpecIssue } from '../../../src/core/errors.js';
import { loadStack, type LoadOptions, type Stack } from '../../../src/spec/index.js';

const created: string[] = [];
afterAll(async () => {
  await Promise.all(created.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The home directory tests pretend to have, so `~` expands the same everywhere. */
export const HOME = '/home/tester';

/** Writes `files` (path → content) under a fresh temporary directory named `project`; returns its path. */
export async function writeProject(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'flotilla-spec-'));
  created.push(root);
  const dir = path.join(root, 'project');
  await mkdir(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return dir;
}

export type TestOptions = Partial<Omit<LoadOptions, 'env'>> & { env?: Record<string, string | undefined> };

/** Loads a project written from `files`; returns the stack, the warnings and the directory. */
export async function load(files: Record<string, string>, options: TestOptions = {}): Promise<{ stack: Stack; warnings: string[]; dir: string }> {
  const dir = await writeProject(files);
  const warnings: string[] = [];
  const stack = await loadStack({ cwd: dir, ...options, env: { HOME, ...options.env }, onWarning: (message) => warnings.push(relative(message, dir)) });
  return { stack, warnings, dir };
}

/** Loads and expects a SpecError; returns its issues as `file:line:column path: message` with paths relative to the project. */
export async function issuesOf(files: Record<string, string>, options: TestOptions = {}): Promise<string[]> {
  const dir = await writeProject(files);
  try {
    await loadStack({ cwd: dir, ...options, env: { HOME, ...options.env } });
  } catch (error) {
    if (error instanceof SpecError) return error.issues.map((issue) => formatIssue(issue, dir));
    throw error;
  }
  throw new Error('expected the project to be rejected, but it loaded');
}

/** The one issue of a project that should have exactly one. */
export async function issueOf(files: Record<string, string>, options: TestOptions = {}): Promise<string> {
  const issues = await issuesOf(files, options);
  if (issues.length !== 1) throw new Error(`expected one issue, got ${issues.length}:\n${issues.join('\n')}`);
  return issues[0] ?? '';
}

function formatIssue(issue: SpecIssue, dir: string): string {
  const where = issue.position ? `${path.relative(dir, issue.position.file)}:${issue.position.line}:${issue.position.column} ` : '';
  return relative(`${where}${issue.path ? `${issue.path}: ` : ''}${issue.message}`, dir);
}

/** Replaces the project directory in text with `<dir>`. */
export function relative(text: string, dir: string): string {
  return text.split(`${dir}/`).join('').split(dir).join('<dir>');
}

/** Compose text from lines, so tests can show the YAML as a user would write it. */
export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
