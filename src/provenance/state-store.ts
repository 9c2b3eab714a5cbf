/**
 * The contract of the project's state store: history and provenance in one SQLite file under
 * `<project directory>/.flotilla/` (WAL, so readers never wait for a writer). Builds now; test
 * results and deploys later add their own tables.
 */
import type { BuildRecord } from '../build/types.js';
import type { TestResult } from '../testing/types.js';

export interface StateStore {
  /** Records a build; recording the same image id again replaces the earlier record. */
  recordBuild(record: BuildRecord): void;
  buildByImageId(imageId: string): BuildRecord | undefined;
  /** Builds whose commit starts with `commitPrefix` (4 hex digits at least), newest first. */
  buildsByCommit(commitPrefix: string): BuildRecord[];
  /** Builds made while `tag` pointed at HEAD, newest first. */
  buildsByTag(tag: string): BuildRecord[];
  /** Records the outcome of a test run. */
  recordTestResult(result: TestResult): void;
  /** The latest passing result for each of these run versions that ever passed. */
  passedTestResults(versions: readonly string[]): Map<string, TestResult>;
  /** The latest result of each suite run that ran in this image, newest first. */
  testResultsByImage(imageId: string): TestResult[];
  close(): void;
}
