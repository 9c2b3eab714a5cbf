/**
 * Dependency conditions and readiness: when a service counts as started, healthy, completed or
 * ready, judged from what the runtime reports about its containers.
 */
import { sleep } from '../core/sleep.js';
import { FlotillaError } from '../core/errors.js';
import type { Driver, ObservedContainer } from '../runtime/driver.js';
import { isMeshProxy, meshProxyServices } from '../runtime/labels.js';
import { meshSettingsOf } from '../spec/mesh.js';
import type { DependencyCondition, Stack } from '../spec/types.js';
import { containerName, isJob } from './names.js';

/** A dependency condition, or `ready` for `up --wait`: healthy when checked, done for jobs, else running. */
export type Condition = DependencyCondition | 'ready';

export type ConditionStatus = { met: true } | { met: false; failed?: string };

/** Whether one container meets a condition; `failed` when it never will. */
export function conditionStatus(container: ObservedContainer | undefined, condition: Condition, job: boolean): ConditionStatus {
  if (!container) return { met: false, failed: 'container is missing' };
  const stopped = container.state === 'exited' || container.state === 'dead';
  const exited = `exited with code ${container.exitCode}`;
  const wanted = condition === 'ready' ? (container.health ? 'service_healthy' : job ? 'service_completed_successfully' : 'service_started') : condition;
  switch (wanted) {
    case 'service_started':
      if (container.state === 'running' || stopped) return condition === 'ready' && stopped ? { met: false, failed: exited } : { met: true };
      return container.state === 'created' ? { met: false, failed: 'was never started' } : { met: false };
    case 'service_healthy':
      if (container.health === 'healthy' && container.state === 'running') return { met: true };
      if (stopped) return { met: false, failed: exited };
      if (container.health === 'unhealthy') return { met: false, failed: 'is unhealthy' };
      if (container.health === undefined && container.state === 'running') return { met: false, failed: 'has no healthcheck' };
      return { met: false };
    case 'service_completed_successfully':
      if (stopped) return container.exitCode === 0 ? { met: true } : { met: false, failed: exited };
      return { met: false };
  }
}

/** A service that did not reach its condition; carries the container to show logs from. */
export class ServiceFailedError extends FlotillaError {
  override readonly name = 'ServiceFailedError';
  constructor(
    readonly service: string,
    readonly container: string,
    reason: string,
  ) {
    super('SERVICE_FAILED', `service ${service}: container ${container} ${reason}`);
  }
}

export interface WaitContext {
  driver: Driver;
  stack: Stack;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  pollMs?: number;
}

/**
 * Resolves when every replica of the service meets the condition, and its mesh proxy (when it is
 * meshed) is healthy: callers reach the service through the proxy, so it is not there for them
 * before the proxy is. The proxy is found by its label (it fronts several services, and `up`
 * creates it beside the services, so it may not be there yet). Throws ServiceFailedError otherwise.
 */
export async function waitForService(context: WaitContext, service: string, condition: Condition): Promise<void> {
  const spec = context.stack.services[service];
  if (!spec) return;
  const job = isJob(context.stack.services, service);
  const names = Array.from({ length: spec.replicas }, (_, index) => containerName(context.stack.name, service, index + 1));
  const meshed = condition !== 'service_completed_successfully' && meshSettingsOf(context.stack, spec) !== undefined;
  let proxy: string | undefined;
  const deadline = Date.now() + context.timeoutMs;
  const pending = new Set(names);
  while (pending.size > 0 || (meshed && proxy === undefined)) {
    if (context.signal?.aborted) throw new FlotillaError('INTERRUPTED', 'interrupted');
    if (meshed && proxy === undefined) {
      proxy = await proxyOf(context, service);
      if (proxy !== undefined) pending.add(proxy);
    }
    const checks = await Promise.all([...pending].map(async (name) => [name, await context.driver.inspectContainer(name)] as const));
    for (const [name, container] of checks) {
      const status = name === proxy ? conditionStatus(container, 'service_healthy', false) : conditionStatus(container, condition, job);
      if (status.met) pending.delete(name);
      else if (status.failed) throw new ServiceFailedError(service, name, status.failed);
    }
    if (pending.size === 0 && (!meshed || proxy !== undefined)) return;
    if (Date.now() > deadline) {
      const first = [...pending][0] ?? `the mesh proxy of ${service}`;
      throw new ServiceFailedError(service, first, `did not become ${describe(condition)} within ${Math.round(context.timeoutMs / 1000)}s`);
    }
    await sleep(context.pollMs ?? 200, context.signal);
  }
}

/** The name of the proxy container that fronts `service`, when there is one. */
async function proxyOf(context: WaitContext, service: string): Promise<string | undefined> {
  const { containers } = await context.driver.observe(context.stack.name);
  return containers.find((container) => isMeshProxy(container) && meshProxyServices(container).includes(service))?.name;
}

function describe(condition: Condition): string {
  return condition === 'ready' ? 'ready' : condition.replace('service_', '').replace('_', ' ');
}
