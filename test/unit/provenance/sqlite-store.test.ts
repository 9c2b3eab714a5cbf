import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FlotillaError, InternalError, UsageError } from '../../../src/core/errors.js';
import { openStateStore, STATE_FILE } from '../../../src/provenance/sqlite-store.js';
import { SCHEMA_VERSION } from '../../../src/provenance/schema.js';
import type { StateStore } from '../../../src/provenance/state-store.js';
import type { TestResult } from '../../../src/testing/types.js';
import { buildRecord, imageId, sha, statement } from './records.js';

const dirs: string[] = [];
const stores: StateStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh `<tmp>/.flotilla` path that does not exist yet. */
function stateDir(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'flotilla-store-'));
  dirs.push(root);
  return path.join(root, '.flotilla');
}

function open(dir: string): StateStore {
  const store = openStateStore(dir);
  stores.push(store);
  return store;
}

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('openStateStore', () => {
  it('creates the directory (mode 0700) and a WAL database at the current schema version', () => {
    const dir = stateDir();
    open(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const raw = new Database(path.join(dir, STATE_FILE), { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('keeps the state directory out of git, so builds from the repository do not turn dirty', () => {
    const dir = stateDir();
    const repo = path.dirname(dir);
    execFileSync('git', ['init', '--quiet', repo]);
    open(dir).recordBuild(buildRecord());
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    expect(execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' })).toBe('');
  });

  it('migrates an empty file, and keeps records across reopening', () => {
    const dir = stateDir();
    open(dir).close();
    // An existing, empty file is an empty SQLite database: it gets the schema.
    rmSync(path.join(dir, STATE_FILE));
    writeFileSync(path.join(dir, STATE_FILE), '');
    const migrated = open(dir);
    migrated.recordBuild(buildRecord());
    migrated.close();
    expect(open(dir).buildByImageId(imageId('aa11'))?.git?.tag).toBe('v1.0.0');
  });

  it('names the file and says to move it away when it is not a database', () => {
    const dir = stateDir();
    open(dir).close();
    writeFileSync(path.join(dir, STATE_FILE), 'these are not the bytes of a database\n'.repeat(200));
    rmSync(path.join(dir, `${STATE_FILE}-wal`), { force: true });
    rmSync(path.join(dir, `${STATE_FILE}-shm`), { force: true });
    const error = thrown(() => openStateStore(dir));
    expect(error).toBeInstanceOf(FlotillaError);
    expect(error).toMatchObject({ code: 'STATE_STORE_CORRUPT' });
    expect((error as FlotillaError).message).toContain(path.join(dir, STATE_FILE));
    expect((error as FlotillaError).hint).toMatch(/^Move it away \(mv .*state\.db .*state\.db\.broken\)/);
  });

  it('says the file is corrupt when its pages are damaged', () => {
    const dir = stateDir();
    const store = open(dir);
    store.recordBuild(buildRecord());
    store.close();
    const file = path.join(dir, STATE_FILE);
    const bytes = readFileSync(file);
    // Keep the 100-byte header (so SQLite takes it for a database), scramble the schema page after it.
    bytes.fill(0xa5, 100, 4096);
    writeFileSync(file, bytes);
    const error = thrown(() => open(dir).buildByImageId(imageId('aa11')));
    expect(error).toMatchObject({ code: 'STATE_STORE_CORRUPT' });
    expect((error as Error).message).toMatch(/^The state database .*state\.db is corrupt/);
  });

  it('refuses a database written by a newer Flotilla', () => {
    const dir = stateDir();
    open(dir).close();
    const raw = new Database(path.join(dir, STATE_FILE));
    raw.pragma('user_version = 99');
    raw.close();
    expect(thrown(() => openStateStore(dir))).toMatchObject({ code: 'STATE_STORE_TOO_NEW', hint: 'Upgrade Flotilla to read it.' });
  });
});

describe('the builds of a state store', () => {
  it('lets a second connection (another process) read what the first recorded', () => {
    const dir = stateDir();
    const writer = open(dir);
    const reader = open(dir);
    expect(reader.buildByImageId(imageId('aa11'))).toBeUndefined();
    writer.recordBuild(buildRecord());
    expect(reader.buildByImageId(imageId('aa11'))?.version).toBe(buildRecord().version);
  });

  it('returns a recorded build by image id, as it was recorded', () => {
    const store = open(stateDir());
    const record = buildRecord({ repoDigests: ['registry.example/shop-api@sha256:' + 'd'.repeat(64)] });
    store.recordBuild(record);
    expect(store.buildByImageId(record.imageId)).toEqual(record);
    expect(store.buildByImageId(imageId('ff'))).toBeUndefined();
  });

  it('keeps a build without git information (not a repository) as git undefined', () => {
    const store = open(stateDir());
    store.recordBuild(buildRecord({ git: undefined }));
    expect(store.buildByImageId(imageId('aa11'))?.git).toBeUndefined();
    expect(store.buildByImageId(imageId('aa11'))).not.toHaveProperty('git.commit');
  });

  it('finds builds by commit prefix (4 hex digits at least, any case), newest first', () => {
    const store = open(stateDir());
    const older = buildRecord({ imageId: imageId('01'), createdAt: '2024-05-01T10:00:00.000Z' });
    const newer = buildRecord({ imageId: imageId('02'), createdAt: '2024-05-02T10:00:00.000Z' });
    const other = buildRecord({ imageId: imageId('03'), git: { commit: sha('abc2'), describe: 'abc2000', dirty: true } });
    store.recordBuild(older);
    store.recordBuild(newer);
    store.recordBuild(other);
    expect(store.buildsByCommit('abc1').map((b) => b.imageId)).toEqual([newer.imageId, older.imageId]);
    expect(store.buildsByCommit('ABC1').map((b) => b.imageId)).toEqual([newer.imageId, older.imageId]);
    expect(store.buildsByCommit(sha('abc2')).map((b) => b.imageId)).toEqual([other.imageId]);
    expect(store.buildsByCommit('abc9')).toEqual([]);
  });

  it('rejects a commit prefix shorter than 4 hex digits or not hex', () => {
    const store = open(stateDir());
    expect(thrown(() => store.buildsByCommit('abc'))).toBeInstanceOf(UsageError);
    expect(thrown(() => store.buildsByCommit('v1.0.0'))).toBeInstanceOf(UsageError);
  });

  it('finds builds by the tag that pointed at HEAD, newest first', () => {
    const store = open(stateDir());
    const first = buildRecord({ imageId: imageId('01'), createdAt: '2024-05-01T10:00:00.000Z' });
    const second = buildRecord({ imageId: imageId('02'), createdAt: '2024-05-03T10:00:00.000Z' });
    store.recordBuild(first);
    store.recordBuild(second);
    store.recordBuild(buildRecord({ imageId: imageId('03'), git: { commit: sha('abc3'), tag: 'v2.0.0', describe: 'v2.0.0', dirty: false } }));
    expect(store.buildsByTag('v1.0.0').map((b) => b.imageId)).toEqual([second.imageId, first.imageId]);
    expect(store.buildsByTag('v9')).toEqual([]);
  });

  it('replaces the record of an image id built again', () => {
    const store = open(stateDir());
    store.recordBuild(buildRecord());
    store.recordBuild(buildRecord({ git: { commit: sha('abc5'), tag: 'v1.1.0', describe: 'v1.1.0', dirty: false }, createdAt: '2024-06-01T00:00:00.000Z' }));
    expect(store.buildByImageId(imageId('aa11'))).toMatchObject({ git: { tag: 'v1.1.0' }, createdAt: '2024-06-01T00:00:00.000Z' });
    expect(store.buildsByTag('v1.0.0')).toEqual([]);
    expect(store.buildsByCommit('abc1')).toEqual([]);
    expect(store.buildsByCommit('abc5')).toHaveLength(1);
  });

  it('refuses, with an InternalError naming the arg and not its value, a statement with an unredacted secret', () => {
    const store = open(stateDir());
    const leaky = buildRecord({ statement: statement(imageId('aa11'), { NODE_ENV: 'production', NPM_TOKEN: 's3cr3t-value' }) });
    const error = thrown(() => store.recordBuild(leaky));
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toContain('externalParameters.args.NPM_TOKEN');
    expect((error as Error).message).not.toContain('s3cr3t-value');
    expect(store.buildByImageId(imageId('aa11'))).toBeUndefined();
  });

  it('finds unredacted secrets under any args key, in map or list form, and accepts redacted ones', () => {
    const store = open(stateDir());
    const nested = buildRecord();
    nested.statement.predicate.buildDefinition.externalParameters = {
      build: { buildArgs: [{ name: 'db_password', value: 'hunter2' }] },
      args: { API_KEY: '[redacted]', Credentials_File: 'x' },
    };
    const message = (thrown(() => store.recordBuild(nested)) as Error).message;
    expect(message).toContain('externalParameters.build.buildArgs.db_password');
    expect(message).toContain('externalParameters.args.Credentials_File');
    expect(message).not.toContain('API_KEY');

    const redacted = buildRecord({ statement: statement(imageId('aa11'), { API_KEY: '[redacted]', GITHUB_TOKEN: '[redacted]', VERSION: '1.2' }) });
    store.recordBuild(redacted);
    expect(store.buildByImageId(imageId('aa11'))?.statement).toEqual(redacted.statement);
  });
});

describe('test results', () => {
  const result = (fields: Partial<TestResult>): TestResult => ({
    version: 'v1',
    project: 'shop',
    runId: 'orders:unit',
    service: 'orders',
    suite: 'unit',
    cell: {},
    imageId: imageId('aa11'),
    status: 'passed',
    durationMs: 1200,
    finishedAt: '2026-11-26T05:00:00.000Z',
    ...fields,
  });

  it('finds the latest passing result per version, and never a failing one', () => {
    const store = open(stateDir());
    store.recordTestResult(result({ version: 'v1', status: 'failed', reason: 'exited with code 1' }));
    store.recordTestResult(result({ version: 'v1', finishedAt: '2026-11-26T05:01:00.000Z' }));
    store.recordTestResult(result({ version: 'v2', status: 'failed' }));
    const passed = store.passedTestResults(['v1', 'v2', 'v3']);
    expect([...passed.keys()]).toEqual(['v1']);
    expect(passed.get('v1')?.finishedAt).toBe('2026-11-26T05:01:00.000Z');
  });

  it('lists the latest result of each run on an image, for trace', () => {
    const store = open(stateDir());
    store.recordTestResult(result({ runId: 'orders:unit', status: 'failed', finishedAt: '2026-11-26T05:00:00.000Z' }));
    store.recordTestResult(result({ runId: 'orders:unit', status: 'passed', finishedAt: '2026-11-26T05:02:00.000Z' }));
    store.recordTestResult(result({ runId: 'orders:integration', status: 'passed' }));
    store.recordTestResult(result({ runId: 'other', imageId: imageId('bb22') }));
    expect(store.testResultsByImage(imageId('aa11')).map((r) => [r.runId, r.status])).toEqual([
      ['orders:unit', 'passed'],
      ['orders:integration', 'passed'],
    ]);
  });
});
