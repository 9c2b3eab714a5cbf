/**
 * The contract of the project's state store: history and provenance in one SQLite file under
 * `<project directory>/.flotilla/` (WAL, so readers never wait for a writer). Builds now; test
 * results and deploys later add their own tables.
 */
import type { BuildRecord } from '../build/types.js';

export interface StateStore {
  /** Records a build; recording the same image id again replaces the earlier record. */
  recordBuild(record: BuildRecord): void;
  buildByImageId(imageId: string): BuildRecord | undefined;
  /** Builds whose commit starts with `commitPrefix` (4 hex digits at least), newest first. */
  buildsByCommit(commitPrefix: string): BuildRecord[];
  /** Builds made while `tag` pointed at HEAD, newest first. */
  buildsByTag(tag: string): BuildRecord[];
  close(): void;
}
