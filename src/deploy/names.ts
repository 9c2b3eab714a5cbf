import type { ServiceSpec } from '../spec/types.js';

/** Container name of a replica: `<project>-<service>-<n>`, as Compose names them. */
export function containerName(project: string, service: string, replica: number): string {
  return `${project}-${service}-${replica}`;
}

/**
 * True when the service is a one-off job that ran to completion: some service waits for it with
 * `service_completed_successfully`. Such a container, exited with 0, is done and not started again.
 */
export function isJob(services: Record<string, ServiceSpec>, name: string): boolean {
  return Object.values(services).some(
    (service) => service.dependsOn[name]?.condition === 'service_completed_successfully',
  );
}
