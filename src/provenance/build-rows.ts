/** A BuildRecord as a row of the `builds` table, and back. */
import type { BaseImage, BuildRecord, GitInfo, InTotoStatement } from '../build/types.js';

/** A row of `builds`, as better-sqlite3 binds and returns it. */
export interface BuildRow {
  image_id: string;
  project: string;
  service: string;
  version: string;
  git_commit: string | null;
  git_tag: string | null;
  git_describe: string | null;
  git_dirty: number | null;
  git_source: string | null;
  created_at: string;
  repo_digests: string;
  tags: string;
  base_images: string;
  statement: string;
}

/** The row that stores `record`. */
export function toRow(record: BuildRecord): BuildRow {
  const git = record.git;
  return {
    image_id: record.imageId,
    project: record.project,
    service: record.service,
    version: record.version,
    git_commit: git?.commit ?? null,
    git_tag: git?.tag ?? null,
    git_describe: git?.describe ?? null,
    git_dirty: git === undefined ? null : git.dirty ? 1 : 0,
    git_source: git?.source ?? null,
    created_at: record.createdAt,
    repo_digests: JSON.stringify(record.repoDigests),
    tags: JSON.stringify(record.tags),
    base_images: JSON.stringify(record.baseImages),
    statement: JSON.stringify(record.statement),
  };
}

/** The record a row stores. */
export function fromRow(row: BuildRow): BuildRecord {
  return {
    imageId: row.image_id,
    repoDigests: JSON.parse(row.repo_digests) as string[],
    project: row.project,
    service: row.service,
    tags: JSON.parse(row.tags) as string[],
    version: row.version,
    git: gitOf(row),
    baseImages: JSON.parse(row.base_images) as BaseImage[],
    createdAt: row.created_at,
    statement: JSON.parse(row.statement) as InTotoStatement,
  };
}

function gitOf(row: BuildRow): GitInfo | undefined {
  if (row.git_commit === null) return undefined;
  return {
    commit: row.git_commit,
    ...(row.git_tag !== null && { tag: row.git_tag }),
    describe: row.git_describe ?? row.git_commit.slice(0, 7),
    dirty: row.git_dirty === 1,
    ...(row.git_source !== null && { source: row.git_source }),
  };
}
