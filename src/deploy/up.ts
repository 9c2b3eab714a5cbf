import { buildService } from '../build/builder.js';
import type { BuildRecord } from '../build/types.js';
import { FlotillaError } from '../core/errors.js';
import type { Driver } from '../runtime/driver.js';
import { meshedServices } from '../spec/mesh.js';
import type { Stack } from '../spec/types.js';
import { waitForService, ServiceFailedError } from './conditions.js';
import { execute, type ExecuteResult, type ProgressEvent, type ServiceFailure } from './execute.js';
import type { MeshImageSource } from './mesh-image.js';
import { observe } from './observe.js';
import type { Plan } from './plan.js';
import { planUp, type UpOptions } from './plan-up.js';

export interface UpRequest {
  driver: Driver;
  stack: Stack;
  options: UpOptions;
  /** Wait until every selected service is ready (healthy, running, or completed). */
  wait: boolean;
  /** Plan only. */
  dryRun: boolean;
  extraLabels: Record<string, string>;
  onProgress: (event: ProgressEvent) => void;
  /** Where build records go (the project's state store); opened only when something is built. */
  recordBuild: (record: BuildRecord) => void | Promise<void>;
  signal?: AbortSignal;
  /** The mesh proxy image; by default the one of the running Flotilla's bundle (needed only when a service is meshed). */
  meshImage?: MeshImageSource;
}

export interface UpResult extends ExecuteResult {
  plan: Plan;
}

/**
 * Observe → plan → execute (unless a dry run) → optionally wait for readiness. A mesh proxy's config
 * takes its services' images (their ports and version), so when a meshed service's image is still to
 * be built or pulled, the images come first and the rest is observed and planned again with them
 * there: which services share a proxy is decided on what the images really expose.
 */
export async function up(request: UpRequest): Promise<UpResult> {
  const { driver, stack, options } = request;
  const observation = await observe(driver, stack, options.services, { meshImage: request.meshImage });
  const plan = planUp(stack, observation, options);
  if (request.dryRun) return { plan, failures: [], skipped: [] };
  const contextOf = (seen: Awaited<ReturnType<typeof observe>>) => ({
    driver,
    stack,
    images: seen.images,
    extraLabels: request.extraLabels,
    build: async (service: string, onProgress: (line: string) => void) => {
      const resolved = seen.resolvedBuilds.find((build) => build.service === service);
      if (!resolved) throw new FlotillaError('INTERNAL', `no build version was computed for service ${service}`);
      const record = await buildService(resolved, { driver, stack, extraLabels: request.extraLabels, record: request.recordBuild, onProgress });
      if (record.git?.dirty) onProgress(`warning: built from uncommitted changes in ${stack.services[service]?.build?.context ?? service}`);
      return record.imageId;
    },
    meshImage: seen.meshImage,
    onProgress: request.onProgress,
    signal: request.signal,
  });
  let done = plan;
  let result: ExecuteResult;
  if (meshWaitsForImages(stack, plan)) {
    await execute({ ...plan, services: [], cleanup: [] }, contextOf(observation));
    const ready = await observe(driver, stack, options.services, { meshImage: request.meshImage });
    const rest = planUp(stack, ready, { ...options, imagesReady: true });
    done = { ...rest, prepare: [...plan.prepare, ...rest.prepare] };
    result = await execute(rest, contextOf(ready));
  } else {
    result = await execute(plan, contextOf(observation));
  }
  if (request.wait) {
    const failed = new Set([...result.failures.map((f) => f.service), ...result.skipped]);
    const selected = options.services.length > 0 ? options.services : Object.keys(stack.services);
    result.failures.push(...(await waitReady(request, selected.filter((name) => !failed.has(name)))));
  }
  return { plan: done, ...result };
}

/** Whether the plan builds or pulls the image of a meshed service. */
function meshWaitsForImages(stack: Stack, plan: Plan): boolean {
  const meshed = new Set(meshedServices(stack));
  return plan.prepare.some((op) => (op.type === 'build-image' || op.type === 'pull-image') && op.service !== undefined && meshed.has(op.service));
}

async function waitReady(request: UpRequest, services: string[]): Promise<ServiceFailure[]> {
  const context = {
    driver: request.driver,
    stack: request.stack,
    signal: request.signal,
    timeoutMs: request.stack.flotilla.waitTimeoutSeconds * 1000,
  };
  const outcomes = await Promise.allSettled(
    services.map(async (service) => {
      await waitForService(context, service, 'ready');
      request.onProgress({ resource: `service ${service}`, service, status: 'done', text: 'Ready' });
    }),
  );
  return outcomes.flatMap((outcome, index): ServiceFailure[] => {
    if (outcome.status === 'fulfilled') return [];
    const error: unknown = outcome.reason;
    if (error instanceof FlotillaError && error.code === 'INTERRUPTED') throw error;
    const service = services[index] ?? '';
    return [
      {
        service,
        message: error instanceof Error ? error.message : String(error),
        ...(error instanceof ServiceFailedError ? { container: error.container } : {}),
      },
    ];
  });
}
