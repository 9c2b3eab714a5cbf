/**
 * What each run executes in, found out before anything runs: the image of the suite (the
 * service's build, a variant of it for another target or the matrix's build args, or an image
 * reference) and the identities of the services it needs. Builds of every run resolve in one pass,
 * so git is read once per repository and identical builds once.
 */
import { resolveBuildSpecs, type BuildWanted, type ResolvedBuild } from '../build/builder.js';
import { FlotillaError } from '../core/errors.js';
import { serviceConfigHash } from '../deploy/config-hash.js';
import type { Driver } from '../runtime/driver.js';
import type { ServiceSpec, Stack, TestSuiteSpec } from '../spec/types.js';
import { neededServices } from './run-stack.js';
import type { NeededService, RunImage, SuiteRun } from './types.js';

/** The image of a run, with the build that makes it when there is one. */
export interface RunImageWithBuild extends RunImage {
  resolved?: ResolvedBuild;
}

export interface RunInputs {
  /** By run id. */
  images: Map<string, RunImageWithBuild>;
  /** By run id: the services it needs, with their identities. */
  needs: Map<string, NeededService[]>;
  /** Image of each service a run needs: its build, or its image reference. */
  neededImages: Map<string, RunImageWithBuild>;
}

/** Resolves the images of `runs` and of the services they need. */
export async function resolveRunInputs(driver: Driver, stack: Stack, runs: readonly SuiteRun[]): Promise<RunInputs> {
  const wanted = new Map<string, BuildWanted>();
  const keyOf = (service: ServiceSpec, spec: NonNullable<ServiceSpec['build']>, variant: boolean) => JSON.stringify([service.name, spec, variant]);
  const runBuilds = new Map<string, string>();
  const plainImages = new Set<string>();

  const neededNames = new Set<string>();
  for (const run of runs) {
    const { service, suite } = lookup(stack, run);
    for (const name of neededServices(stack, suite)) neededNames.add(name);
    if (suite.image) {
      plainImages.add(suite.image);
    } else if (service.build) {
      const variant = suite.target !== undefined || Object.keys(run.cell).length > 0;
      const spec = { ...service.build, args: { ...service.build.args, ...run.cell }, ...(suite.target ? { target: suite.target } : {}) };
      const key = keyOf(service, spec, variant);
      wanted.set(key, { service, spec, variant });
      runBuilds.set(run.id, key);
    } else {
      plainImages.add(service.image);
    }
  }
  for (const name of neededNames) {
    const service = stack.services[name];
    if (!service) continue;
    if (service.build) wanted.set(keyOf(service, service.build, false), { service, spec: service.build, variant: false });
    else plainImages.add(service.image);
  }

  const keys = [...wanted.keys()];
  const [resolved, plain] = await Promise.all([
    resolveBuildSpecs(driver, keys.map((key) => wanted.get(key) as BuildWanted)),
    Promise.all([...plainImages].map(async (reference) => [reference, (await driver.inspectImage(reference))?.id] as const)),
  ]);
  const byKey = new Map(keys.map((key, index) => [key, resolved[index] as ResolvedBuild]));
  const plainIds = new Map(plain);
  const fromBuild = (build: ResolvedBuild): RunImageWithBuild => ({
    reference: build.tag,
    identity: build.version.version,
    ...(build.imageId ? { id: build.imageId } : {}),
    build: { args: build.spec.args, ...(build.spec.target ? { target: build.spec.target } : {}) },
    resolved: build,
  });
  const fromReference = (reference: string): RunImageWithBuild => {
    const id = plainIds.get(reference);
    return { reference, identity: id ?? reference, ...(id ? { id } : {}) };
  };

  const neededImages = new Map<string, RunImageWithBuild>();
  for (const name of neededNames) {
    const service = stack.services[name] as ServiceSpec;
    neededImages.set(name, service.build ? fromBuild(byKey.get(keyOf(service, service.build, false)) as ResolvedBuild) : fromReference(service.image));
  }
  const images = new Map<string, RunImageWithBuild>();
  const needs = new Map<string, NeededService[]>();
  for (const run of runs) {
    const { service, suite } = lookup(stack, run);
    const key = runBuilds.get(run.id);
    images.set(run.id, key ? fromBuild(byKey.get(key) as ResolvedBuild) : fromReference(suite.image ?? service.image));
    needs.set(
      run.id,
      neededServices(stack, suite).map((name) => ({
        service: name,
        identity: `${neededImages.get(name)?.identity ?? name}:${serviceConfigHash(stack, stack.services[name] as ServiceSpec)}`,
      })),
    );
  }
  return { images, needs, neededImages };
}

function lookup(stack: Stack, run: SuiteRun): { service: ServiceSpec; suite: TestSuiteSpec } {
  const service = stack.services[run.service];
  const suite = service?.flotilla.tests[run.suite];
  if (!service || !suite) throw new FlotillaError('INTERNAL', `run ${run.id}: no suite ${run.suite} on service ${run.service}`);
  return { service, suite };
}
