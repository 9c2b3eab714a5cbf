/**
 * `flotilla test`: suites declared per service (`x-flotilla.tests`) expand into runs, one per cell
 * of their matrix. Each run has a *version* — a hash of everything that decides its outcome — and a
 * run whose version passed before is skipped as cached.
 */

/** One combination of matrix values (`{ NODE_VERSION: '18' }`); `{}` for a suite without a matrix. */
export type MatrixCell = Record<string, string>;

/** A suite in one cell of its matrix: what the runner executes. */
export interface SuiteRun {
  /** Stable, readable id: `orders:unit`, or `orders:unit[NODE_VERSION=18]` for a matrix cell. */
  id: string;
  service: string;
  suite: string;
  cell: MatrixCell;
  /** Ids of the runs that must pass before this one starts (from `after:`, every cell of the named suite). */
  after: string[];
}

/** The image a run executes in, as identified before it runs. */
export interface RunImage {
  /** Reference to run (a build version tag, or the suite's or service's image). */
  reference: string;
  /** Image id when the image exists; a build is needed otherwise. */
  id?: string;
  /** Content identity for the run version: the build version, else the image id, else the reference. */
  identity: string;
  /** Set when the image has to be built (or checked) from the service's build section with these settings. */
  build?: { target?: string; args: Record<string, string> };
}

/** A needed service, as it will be started for a run. */
export interface NeededService {
  service: string;
  /** Image identity (build version or image id) and the service's config hash. */
  identity: string;
}

/** A run with its version and whether a passing result is cached. */
export interface PlannedRun extends SuiteRun {
  version: string;
  image: RunImage;
  needs: NeededService[];
  /** Set when a run of the same version passed before: it is skipped. */
  cached?: TestResult;
}

/** The outcome of a run, as stored in the state store and reported. */
export interface TestResult {
  version: string;
  project: string;
  runId: string;
  service: string;
  suite: string;
  cell: MatrixCell;
  /** Id of the image the suite ran in: `trace` shows which suites passed on a container's image. */
  imageId: string;
  status: 'passed' | 'failed';
  /** Why it failed: exit code, timeout, a needed service that did not come up. */
  reason?: string;
  durationMs: number;
  /** Counts from its JUnit XML, when it wrote one. */
  tests?: { total: number; failures: number; errors: number; skipped: number };
  finishedAt: string;
}
