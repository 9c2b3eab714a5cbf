/** Temporary directories for the build tests, removed after each test. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

const created: string[] = [];
afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory holding `files` (relative `/`-separated paths → content), removed after the test. */
export function tree(files: Record<string, string | Buffer> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'flotilla-build-'));
  created.push(root);
  for (const [path, content] of Object.entries(files)) write(root, path, content);
  return root;
}

/** Writes `content` at `root/path`, creating the directories on the way. */
export function write(root: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}
