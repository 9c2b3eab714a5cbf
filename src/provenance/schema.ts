/**
 * The state database's schema, as an ordered list of migrations. `PRAGMA user_version` holds how
 * many have run; opening a store runs the missing ones in one transaction. A later capability
 * (test results, deploys) adds its tables by appending a step, never by editing one that shipped.
 */
import type Database from 'better-sqlite3';
import { FlotillaError } from '../core/errors.js';

/** One schema step: SQL run once, in order. */
const MIGRATIONS: readonly string[] = [
  // 1: builds, one row per image id; the columns that are searched sit beside the JSON they came from.
  `CREATE TABLE builds (
     image_id     TEXT PRIMARY KEY,
     project      TEXT NOT NULL,
     service      TEXT NOT NULL,
     version      TEXT NOT NULL,
     git_commit   TEXT,
     git_tag      TEXT,
     git_describe TEXT,
     git_dirty    INTEGER,
     git_source   TEXT,
     created_at   TEXT NOT NULL,
     repo_digests TEXT NOT NULL,
     tags         TEXT NOT NULL,
     base_images  TEXT NOT NULL,
     statement    TEXT NOT NULL
   );
   CREATE INDEX builds_by_commit ON builds (git_commit);
   CREATE INDEX builds_by_tag ON builds (git_tag);`,
  // 2: test results, one row per run of a suite; a passed version is what makes a later run cached.
  `CREATE TABLE test_results (
     id          INTEGER PRIMARY KEY,
     version     TEXT NOT NULL,
     project     TEXT NOT NULL,
     run_id      TEXT NOT NULL,
     service     TEXT NOT NULL,
     suite       TEXT NOT NULL,
     image_id    TEXT NOT NULL,
     status      TEXT NOT NULL,
     finished_at TEXT NOT NULL,
     result      TEXT NOT NULL
   );
   CREATE INDEX test_results_by_version ON test_results (version, status);
   CREATE INDEX test_results_by_image ON test_results (image_id);`,
];

/** The schema version this Flotilla writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings `db` (at `file`) up to SCHEMA_VERSION; refuses a database from a newer Flotilla. */
export function migrate(db: Database.Database, file: string): void {
  // IMMEDIATE takes the write lock first, so two processes opening a fresh file do not both migrate.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new FlotillaError('STATE_STORE_TOO_NEW', `${file} was written by a newer Flotilla (schema ${current}; this one knows up to ${SCHEMA_VERSION})`, {
        hint: 'Upgrade Flotilla to read it.',
      });
    }
    for (let version = current; version < SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version] ?? '');
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
