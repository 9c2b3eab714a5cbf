/**
 * Driver requests for integration tests: a resolved service with every default applied, and
 * container/network/volume requests that carry the project and test-run labels.
 */
import type { ContainerRequest, NetworkRequest, VolumeRequest } from '../../../src/runtime/driver.js';
import { Label } from '../../../src/runtime/labels.js';
import type { ServiceSpec } from '../../../src/spec/types.js';
import { testLabels, testRunId } from './cleanup.js';
import { service } from '../../support/stack-factory.js';

/** The image every test container runs (global-setup.ts makes sure it is there). */
export const IMAGE = 'debian:bookworm-slim';

/** The project every object of this file belongs to. */
export const project = `ftest-${testRunId}`;

/** An engine name unique to this run. */
export function uniqueName(suffix: string): string {
  return `${project}-${suffix}`;
}

/** Labels of an object of the test project. */
export function projectLabels(): Record<string, string> {
  return { ...testLabels(), [Label.project]: project };
}

/** A resolved service, as the Compose loader would hand it over, with `overrides`. */
export function serviceSpec(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return service(overrides.name ?? 'svc', {
    image: IMAGE,
    networks: {},
    // Containers run `sleep` under an init so a stop does not wait for the grace period.
    init: true,
    stopGracePeriod: '2s',
    pullPolicy: 'never',
    ...overrides,
  });
}

/** A request for one container named `<project>-<suffix>` running `service`. */
export function containerRequest(suffix: string, service: ServiceSpec, overrides: Partial<ContainerRequest> = {}): ContainerRequest {
  return {
    name: uniqueName(suffix),
    image: IMAGE,
    service,
    replica: 1,
    labels: { ...projectLabels(), [Label.service]: service.name, [Label.replica]: '1', [Label.configHash]: 'test' },
    networks: [],
    volumeNames: {},
    files: [],
    ...overrides,
  };
}

/** A bridge network request. */
export function networkRequest(name: string): NetworkRequest {
  return {
    name,
    driver: 'bridge',
    driverOpts: {},
    internal: false,
    attachable: false,
    enableIpv6: false,
    labels: { ...projectLabels(), [Label.network]: 'default' },
  };
}

/** A local volume request. */
export function volumeRequest(name: string): VolumeRequest {
  return { name, driver: 'local', driverOpts: {}, labels: { ...projectLabels(), [Label.volume]: 'data' } };
}
