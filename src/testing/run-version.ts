/**
 * The run version: one hash of everything that decides a run's outcome, so a run whose version
 * passed before is skipped, and any change to what it runs, in or against gives a new version.
 */
import { createHash } from 'node:crypto';
import { stableStringify } from '../core/stable-json.js';
import type { ServiceSpec, TestSuiteSpec } from '../spec/types.js';
import type { MatrixCell, NeededService } from './types.js';

/** What `runVersion` hashes. */
export interface RunVersionInput {
  /** `RunImage.identity`: the build version, else the image id, else the reference. */
  image: string;
  /** The service whose suite this is; only the parts that shape the run count (see `runShapingParts`). */
  service: ServiceSpec;
  suite: TestSuiteSpec;
  needs: readonly NeededService[];
  cell: MatrixCell;
}

/** Bumped when the hashed form changes, so no old version can collide with a new one. */
const SCHEME = 'flotilla.run-version/1';

/**
 * Hex sha256 of the canonical JSON of the run's inputs. The suite counts by everything but `after`
 * (it orders runs; it does not feed them) and `matrix` (the cell counts instead, so adding a value
 * leaves the other cells cached). The service and suite names count, so two suites with the same
 * command never share a result. Needed services count by identity, in name order.
 */
export function runVersion(input: RunVersionInput): string {
  // Left out by name, so a field TestSuiteSpec gains later counts.
  const { after: _after, matrix: _matrix, ...suite } = input.suite;
  const canonical = stableStringify({
    scheme: SCHEME,
    image: input.image,
    service: input.service.name,
    suite,
    shaping: runShapingParts(input.service),
    needs: [...input.needs].sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0)).map((need) => ({ service: need.service, identity: need.identity })),
    cell: input.cell,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The parts of a service that shape a test run of it: everything but what the run replaces or
 * never uses. Left out: the image and build (the image identity stands for them), the command (the
 * suite's replaces it), and what only places, exposes, orders, restarts, names or selects the
 * service's own containers. Mounts count by their settings, as the runner keeps bind mounts; the
 * files behind a bind mount do not, so a suite reading them is not re-run when they change
 * (`--force` is the way). A field added to ServiceSpec later counts until it is listed here: a
 * needless re-run is better than a stale pass.
 */
export function runShapingParts(service: ServiceSpec): Partial<ServiceSpec> {
  const {
    name: _name,
    image: _image,
    build: _build,
    command: _command,
    ports: _ports,
    expose: _expose,
    networks: _networks,
    networkMode: _networkMode,
    dependsOn: _dependsOn,
    healthcheck: _healthcheck,
    restart: _restart,
    deploy: _deploy,
    replicas: _replicas,
    labels: _labels,
    logging: _logging,
    stopSignal: _stopSignal,
    stopGracePeriod: _stopGracePeriod,
    pullPolicy: _pullPolicy,
    profiles: _profiles,
    flotilla: _flotilla,
    extensions: _extensions,
    ...shaping
  } = service;
  return shaping;
}
