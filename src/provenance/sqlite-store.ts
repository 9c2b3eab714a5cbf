/**
 * The state store over SQLite (better-sqlite3): one file, `<directory>/state.db`, in WAL mode so
 * readers never wait for a writer, with a busy timeout so two Flotilla processes writing at once
 * queue instead of failing. Every SQLite failure leaves here as a FlotillaError naming the file.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { BuildRecord } from '../build/types.js';
import { FlotillaError, UsageError } from '../core/errors.js';
import { fromRow, toRow, type BuildRow } from './build-rows.js';
import { assertRedacted } from './redaction.js';
import { migrate } from './schema.js';
import type { StateStore } from './state-store.js';
import type { TestResult } from '../testing/types.js';

/** A row of test_results: the searched columns beside the whole result as JSON. */
interface TestRow {
  version: string;
  project: string;
  run_id: string;
  service: string;
  suite: string;
  image_id: string;
  status: string;
  finished_at: string;
  result: string;
}

/** The database's file name inside the state directory. */
export const STATE_FILE = 'state.db';

/** How long a write waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 10_000;

/** Opens (creating when missing, with its directory, mode 0700) the state store in `directory`. */
export function openStateStore(directory: string): StateStore {
  const file = path.join(directory, STATE_FILE);
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    ignoreInGit(directory);
  } catch (error) {
    throw new FlotillaError('STATE_STORE_UNAVAILABLE', `Cannot create the state directory ${directory}: ${(error as Error).message}`, {
      hint: 'Check the permissions of the project directory.',
      cause: error,
    });
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    // The first statement is where SQLite reads the file, so a file that is not a database fails here.
    db.pragma('journal_mode = WAL');
    migrate(db, file);
    return sqliteStore(db, file);
  } catch (error) {
    db?.close();
    throw storeError(error, file);
  }
}

/**
 * Keeps the state directory out of git: it sits in the project (often in a build context), and
 * an untracked file there would mark every build from that repository dirty.
 */
function ignoreInGit(directory: string): void {
  try {
    writeFileSync(path.join(directory, '.gitignore'), "# Flotilla's local state (build history, provenance): never committed.\n*\n", { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function sqliteStore(db: Database.Database, file: string): StateStore {
  const guard = <T>(work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw storeError(error, file);
    }
  };
  const insert = db.prepare<[BuildRow]>(
    `INSERT OR REPLACE INTO builds (image_id, project, service, version, git_commit, git_tag, git_describe, git_dirty, git_source,
       created_at, repo_digests, tags, base_images, statement)
     VALUES (@image_id, @project, @service, @version, @git_commit, @git_tag, @git_describe, @git_dirty, @git_source,
       @created_at, @repo_digests, @tags, @base_images, @statement)`,
  );
  const byImageId = db.prepare<[string], BuildRow>('SELECT * FROM builds WHERE image_id = ?');
  // A range, not LIKE: LIKE ignores case and cannot use the index without changing a global pragma.
  const byCommitRange = db.prepare<[string, string], BuildRow>(
    'SELECT * FROM builds WHERE git_commit >= ? AND git_commit < ? ORDER BY created_at DESC, rowid DESC',
  );
  const byTag = db.prepare<[string], BuildRow>('SELECT * FROM builds WHERE git_tag = ? ORDER BY created_at DESC, rowid DESC');
  const record = db.transaction((row: BuildRow) => insert.run(row));
  const insertTest = db.prepare<[TestRow]>(
    `INSERT INTO test_results (version, project, run_id, service, suite, image_id, status, finished_at, result)
     VALUES (@version, @project, @run_id, @service, @suite, @image_id, @status, @finished_at, @result)`,
  );
  const passedByVersion = db.prepare<[string], { result: string }>(
    "SELECT result FROM test_results WHERE version = ? AND status = 'passed' ORDER BY finished_at DESC, id DESC LIMIT 1",
  );
  const testsByImage = db.prepare<[string], { result: string }>('SELECT result FROM test_results WHERE image_id = ? ORDER BY finished_at DESC, id DESC');

  return {
    recordBuild(build: BuildRecord) {
      // Checked before anything is written: a refused record leaves the database as it was.
      assertRedacted(build.statement);
      guard(() => record.immediate(toRow(build)));
    },
    buildByImageId: (imageId) => mapOne(guard(() => byImageId.get(imageId))),
    buildsByCommit(commitPrefix) {
      if (!/^[0-9a-f]{4,64}$/i.test(commitPrefix)) {
        throw new UsageError(`"${commitPrefix}" is not a commit: expected 4 to 64 hex digits`);
      }
      const prefix = commitPrefix.toLowerCase();
      // Every sha starting with the prefix sorts below prefix + "g", since hex digits stop at "f".
      return guard(() => byCommitRange.all(prefix, `${prefix}g`)).map(fromRow);
    },
    buildsByTag: (tag) => guard(() => byTag.all(tag)).map(fromRow),
    recordTestResult(result: TestResult) {
      const row: TestRow = {
        version: result.version,
        project: result.project,
        run_id: result.runId,
        service: result.service,
        suite: result.suite,
        image_id: result.imageId,
        status: result.status,
        finished_at: result.finishedAt,
        result: JSON.stringify(result),
      };
      guard(() => insertTest.run(row));
    },
    passedTestResults(versions) {
      const found = new Map<string, TestResult>();
      guard(() => {
        for (const version of versions) {
          const row = passedByVersion.get(version);
          if (row) found.set(version, JSON.parse(row.result) as TestResult);
        }
      });
      return found;
    },
    testResultsByImage(imageId) {
      // Newest first; keep the latest result of each run.
      const latest = new Map<string, TestResult>();
      for (const { result } of guard(() => testsByImage.all(imageId))) {
        const parsed = JSON.parse(result) as TestResult;
        if (!latest.has(parsed.runId)) latest.set(parsed.runId, parsed);
      }
      return [...latest.values()];
    },
    close() {
      if (db.open) db.close();
    },
  };
}

function mapOne(row: BuildRow | undefined): BuildRecord | undefined {
  return row === undefined ? undefined : fromRow(row);
}

/** A FlotillaError for a SQLite failure on `file`, with what to do about it. */
function storeError(error: unknown, file: string): unknown {
  if (error instanceof FlotillaError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new FlotillaError('STATE_STORE_CORRUPT', `The state database ${file} is ${code === 'SQLITE_NOTADB' ? 'not a SQLite database' : 'corrupt'} (${message})`, {
      hint: `Move it away (mv ${file} ${file}.broken) and run again: Flotilla starts a new one, without the build history.`,
      cause: error,
    });
  }
  if (code === 'SQLITE_BUSY') {
    return new FlotillaError('STATE_STORE_BUSY', `The state database ${file} stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000}s`, {
      hint: 'Another Flotilla command is writing to it; run again when it has finished.',
      cause: error,
    });
  }
  return new FlotillaError('STATE_STORE_FAILED', `The state database ${file} failed: ${message}`, {
    hint: 'Check that the file and its directory are readable and writable.',
    cause: error,
  });
}

/** The state store in `directory` when one was ever created there; undefined otherwise, creating nothing (for read-only commands). */
export function openStateStoreIfExists(directory: string): StateStore | undefined {
  return existsSync(path.join(directory, STATE_FILE)) ? openStateStore(directory) : undefined;
}
