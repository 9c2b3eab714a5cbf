/**
 * The executor carries out a plan and makes no decisions of its own: it runs the prepare phase in
 * parallel, then every service as soon as its waits are met, then the cleanup phases in order.
 * A failed service fails its dependents (they are skipped) but not the independent services.
 */
import { memoize } from '../core/concurrency.js';
import { FlotillaError } from '../core/errors.js';
import type { Driver, ImageInfo } from '../runtime/driver.js';
import type { Stack } from '../spec/types.js';
import { parseDuration } from '../spec/duration.js';
import { ServiceFailedError, waitForService } from './conditions.js';
import type { MeshImageSource } from './mesh-image.js';
import { meshProxyRequest } from './mesh-request.js';
import { ImageLabel } from '../build/image-labels.js';
import { containerName } from './names.js';
import type { Operation, Plan, ServiceSteps } from './plan.js';
import { containerRequest, networkRequest, volumeRequest } from './requests.js';

export type ProgressStatus = 'working' | 'done' | 'waiting' | 'failed' | 'skipped';

/** One line of progress: what happens to which resource. */
export interface ProgressEvent {
  resource: string;
  service?: string;
  status: ProgressStatus;
  text: string;
}

export interface ExecuteContext {
  driver: Driver;
  stack: Stack;
  /** Image id per reference, as observed before planning; filled in as images are built or pulled. */
  images: Record<string, string | undefined>;
  extraLabels: Record<string, string>;
  /** Builds a service's image (labels, provenance) and returns its id; needed by plans with build operations. */
  build?: (service: string, onProgress: (line: string) => void) => Promise<string>;
  /** The mesh proxy image; needed by plans that build it. */
  meshImage?: MeshImageSource | undefined;
  onProgress: (event: ProgressEvent) => void;
  signal?: AbortSignal | undefined;
}

/** Why a service did not come up. */
export interface ServiceFailure {
  service: string;
  /** The container to show logs from, when one is to blame. */
  container?: string;
  message: string;
}

export interface ExecuteResult {
  failures: ServiceFailure[];
  /** Services not attempted because a dependency failed. */
  skipped: string[];
}

const DONE_TEXT: Record<Operation['type'], string> = {
  'pull-image': 'Pulled',
  'build-image': 'Built',
  'create-network': 'Created',
  'create-volume': 'Created',
  'create-container': 'Started',
  'recreate-container': 'Recreated',
  'start-container': 'Started',
  'restart-container': 'Restarted',
  'stop-container': 'Stopped',
  'remove-container': 'Removed',
  'remove-network': 'Removed',
  'remove-volume': 'Removed',
};

const WORKING_TEXT: Record<Operation['type'], string> = {
  'pull-image': 'Pulling',
  'build-image': 'Building',
  'create-network': 'Creating',
  'create-volume': 'Creating',
  'create-container': 'Creating',
  'recreate-container': 'Recreating',
  'start-container': 'Starting',
  'restart-container': 'Restarting',
  'stop-container': 'Stopping',
  'remove-container': 'Removing',
  'remove-network': 'Removing',
  'remove-volume': 'Removing',
};

/** Carries out a plan. Throws only for failures before any container (images, networks, volumes). */
/** One run of the executor: its context, and what the run learns once and shares (image inspections, for the replicas of a service). */
interface RunContext extends ExecuteContext {
  inspectImage: (reference: string) => Promise<ImageInfo | undefined>;
}

export async function execute(plan: Plan, given: ExecuteContext): Promise<ExecuteResult> {
  const context: RunContext = { ...given, inspectImage: memoize((reference) => given.driver.inspectImage(reference)) };
  await runParallel(plan.prepare, context);
  const failures = new Map<string, ServiceFailure>();
  const skipped: string[] = [];
  const finished = new Map<string, Promise<void>>();
  for (const steps of plan.services) {
    const run = runService(steps, context, finished).catch((error: unknown) => {
      if (error instanceof DependencyFailed) {
        skipped.push(steps.service);
        context.onProgress({ resource: `service ${steps.service}`, service: steps.service, status: 'skipped', text: error.message });
      } else {
        recordFailure(failures, steps.service, error);
      }
      throw error;
    });
    run.catch(() => undefined); // observed through `finished` by dependents and by allSettled below
    finished.set(steps.service, run);
  }
  const settled = await Promise.allSettled(finished.values());
  for (const outcome of settled) {
    if (outcome.status === 'rejected' && outcome.reason instanceof DependencyFailed && outcome.reason.cause instanceof ServiceFailedError) {
      recordFailure(failures, outcome.reason.cause.service, outcome.reason.cause);
    }
  }
  for (const phase of plan.cleanup) await runParallel(phase, context);
  return { failures: [...failures.values()], skipped };
}

/** A dependent service is skipped because something it waits for failed. */
class DependencyFailed extends FlotillaError {
  constructor(dependency: string, cause: unknown) {
    super('DEPENDENCY_FAILED', `skipped: dependency ${dependency} failed`, { cause });
  }
}

async function runService(steps: ServiceSteps, context: RunContext, finished: Map<string, Promise<void>>): Promise<void> {
  await Promise.all(
    steps.waitFor.map(async (wait) => {
      try {
        await finished.get(wait.service);
        // A proxy being replaced is the service's name going away for a moment: wait until the new one is there.
        if (wait.proxy !== undefined) await finished.get(wait.proxy);
      } catch (error) {
        throw new DependencyFailed(wait.service, error instanceof DependencyFailed ? error.cause : error);
      }
      context.onProgress({ resource: `service ${wait.service}`, service: steps.service, status: 'waiting', text: `${steps.service} waits for ${wait.service} (${wait.condition.replace('service_', '')})` });
      try {
        await waitForService(waitContext(context), wait.service, wait.condition);
      } catch (error) {
        throw new DependencyFailed(wait.service, error);
      }
    }),
  );
  for (const op of steps.operations) await runOperation(op, context);
}

async function runParallel(operations: Operation[], context: RunContext): Promise<void> {
  const outcomes = await Promise.allSettled(operations.map((op) => runOperation(op, context)));
  const errors = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new FlotillaError('OPERATIONS_FAILED', errors.map((error) => (error instanceof Error ? error.message : String(error))).join('\n'), { cause: errors[0] });
  }
}

async function runOperation(op: Operation, context: RunContext): Promise<void> {
  if (context.signal?.aborted) throw new FlotillaError('INTERRUPTED', 'interrupted');
  const base = { resource: op.resource, ...(op.service ? { service: op.service } : {}) };
  context.onProgress({ ...base, status: 'working', text: WORKING_TEXT[op.type] });
  try {
    await perform(op, context, (line) => context.onProgress({ ...base, status: 'working', text: line }));
  } catch (error) {
    context.onProgress({ ...base, status: 'failed', text: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  context.onProgress({ ...base, status: 'done', text: DONE_TEXT[op.type] });
}

async function perform(op: Operation, context: RunContext, progress: (line: string) => void): Promise<void> {
  const { driver, stack } = context;
  switch (op.type) {
    case 'pull-image':
      context.images[op.name] = (await driver.pullImage(op.name, progress)).id;
      return;
    case 'build-image': {
      if (op.role === 'mesh-image') {
        if (!context.meshImage) throw new FlotillaError('INTERNAL', `${op.resource}: the plan builds the mesh image, but no source was given`);
        // Shared by every project on the engine: no project label, only the run's own (so tests can remove it).
        context.images[op.name] = (await context.meshImage.build(driver, { ...context.extraLabels }, progress)).id;
        return;
      }
      if (!context.build) throw new FlotillaError('INTERNAL', `${op.resource}: the plan builds, but no builder was given`);
      context.images[op.name] = await context.build(serviceOf(stack, op).name, progress);
      return;
    }
    case 'create-network':
      return driver.createNetwork(networkRequest(stack, op.name, context.extraLabels));
    case 'create-volume':
      return driver.createVolume(volumeRequest(stack, op.name, context.extraLabels));
    case 'recreate-container':
      await stopAndRemove(driver, op, stopTimeout(stack, op));
      await createAndStart(op, context);
      return;
    case 'create-container':
      return createAndStart(op, context);
    case 'start-container':
      return driver.startContainer(containerId(op));
    case 'restart-container':
      return driver.restartContainer(containerId(op), stopTimeout(stack, op));
    case 'stop-container':
      return driver.stopContainer(containerId(op), stopTimeout(stack, op));
    case 'remove-container':
      return stopAndRemove(driver, op, stopTimeout(stack, op));
    case 'remove-network':
      return driver.removeNetwork(op.name);
    case 'remove-volume':
      return driver.removeVolume(op.name);
  }
}

async function createAndStart(op: Operation, context: RunContext): Promise<void> {
  if (op.role === 'mesh-proxy') return createMeshProxy(op, context);
  const service = serviceOf(context.stack, op);
  const image = await imageToRun(context, op.image ?? service.image);
  if (!image) throw new FlotillaError('IMAGE_NOT_FOUND', `service ${service.name}: image ${op.image ?? service.image} is not present`);
  const networkModeContainer = await sharedNetworkContainer(context, service.networkMode);
  const request = containerRequest({
    stack: context.stack,
    service,
    replica: op.replica ?? 1,
    image,
    extraLabels: context.extraLabels,
    ...(networkModeContainer ? { networkModeContainer } : {}),
  });
  const id = await context.driver.createContainer(request);
  await context.driver.startContainer(id);
}

/** A mesh proxy: its config comes from its services' images (EXPOSE ports, version) as they run now. */
async function createMeshProxy(op: Operation, context: RunContext): Promise<void> {
  const services = Object.entries(op.meshServices ?? {});
  const images = await Promise.all(services.map(async ([, reference]) => (reference ? imageToRun(context, reference) : undefined)));
  const facts = new Map(services.map(([service], index) => [service, images[index] && { exposedPorts: images[index].exposedPorts ?? [], version: images[index].labels[ImageLabel.version] || 'unknown' }]));
  const tag = op.image ?? '';
  const meshImage = await imageToRun(context, tag);
  if (!meshImage) throw new FlotillaError('IMAGE_NOT_FOUND', `mesh proxy ${op.name}: image ${tag} is not present`);
  const group = { name: op.name, services: services.map(([service]) => service) };
  const request = meshProxyRequest({ stack: context.stack, group, factsOf: (service) => facts.get(service), meshImage: { tag, id: meshImage.id }, extraLabels: context.extraLabels });
  const id = await context.driver.createContainer(request);
  await context.driver.startContainer(id);
}

/**
 * The image a container of `reference` runs: the id observed, built or pulled (else the
 * reference's), inspected for the labels the container's telemetry resource names.
 */
async function imageToRun(context: RunContext, reference: string): Promise<ImageInfo | undefined> {
  const known = context.images[reference];
  // An id the plan already knows still runs when the inspection finds nothing: the Engine decides.
  return (await context.inspectImage(known ?? reference)) ?? (known ? { id: known, repoDigests: [], labels: {} } : undefined);
}

/** `network_mode: service:<name>` joins the network namespace of that service's first replica. */
async function sharedNetworkContainer(context: RunContext, networkMode: string | undefined): Promise<string | undefined> {
  if (!networkMode?.startsWith('service:')) return undefined;
  const name = containerName(context.stack.name, networkMode.slice('service:'.length), 1);
  const container = await context.driver.inspectContainer(name);
  if (!container) throw new FlotillaError('CONTAINER_NOT_FOUND', `network_mode ${networkMode}: container ${name} does not exist`);
  return container.id;
}

async function stopAndRemove(driver: Driver, op: Operation, timeoutSeconds: number): Promise<void> {
  const id = containerId(op);
  await driver.stopContainer(id, timeoutSeconds);
  await driver.removeContainer(id, { volumes: false });
}

function stopTimeout(stack: Stack, op: Operation): number {
  const service = op.service ? stack.services[op.service] : undefined;
  return Math.ceil(parseDuration(service?.stopGracePeriod ?? '10s') / 1000);
}

function containerId(op: Operation): string {
  if (!op.containerId) throw new FlotillaError('INTERNAL', `${op.type} ${op.resource} has no container id`);
  return op.containerId;
}

function serviceOf(stack: Stack, op: Operation) {
  const service = op.service ? stack.services[op.service] : undefined;
  if (!service) throw new FlotillaError('INTERNAL', `${op.type} ${op.resource}: no service ${op.service ?? '(none)'}`);
  return service;
}

function waitContext(context: ExecuteContext) {
  return {
    driver: context.driver,
    stack: context.stack,
    signal: context.signal,
    timeoutMs: context.stack.flotilla.waitTimeoutSeconds * 1000,
  };
}

function recordFailure(failures: Map<string, ServiceFailure>, service: string, error: unknown): void {
  if (failures.has(service)) return;
  const message = error instanceof Error ? error.message : String(error);
  failures.set(service, {
    service,
    message,
    ...(error instanceof ServiceFailedError ? { container: error.container } : {}),
  });
}
