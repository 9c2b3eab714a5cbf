import type { ServiceSpec, Stack } from '../../src/spec/types.js';

/** A resolved service with every default, overridden by `fields`. */
export function service(name: string, fields: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image: `${name}:latest`,
    environment: {},
    ports: [],
    expose: [],
    volumes: [],
    networks: { default: { aliases: [] } },
    dependsOn: {},
    restart: 'no',
    replicas: 1,
    labels: {},
    stopGracePeriod: '10s',
    secrets: [],
    configs: [],
    extraHosts: [],
    capAdd: [],
    capDrop: [],
    readOnly: false,
    privileged: false,
    tty: false,
    stdinOpen: false,
    ulimits: {},
    pullPolicy: 'missing',
    profiles: [],
    flotilla: { tests: {} },
    extensions: {},
    ...fields,
  };
}

export const healthy = {
  disable: false as const,
  test: ['CMD-SHELL', 'true'],
  interval: '1s',
  timeout: '1s',
  retries: 3,
  startPeriod: '0s',
  startInterval: '1s',
};

/** A resolved stack named `demo` with a default network and the given services. */
export function stack(services: ServiceSpec[], fields: Partial<Stack> = {}): Stack {
  return {
    name: 'demo',
    workingDir: '/work/demo',
    files: ['/work/demo/compose.yaml'],
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    disabledServices: [],
    networks: {
      default: { name: 'demo_default', external: false, driver: 'bridge', driverOpts: {}, internal: false, attachable: false, enableIpv6: false, labels: {} },
    },
    volumes: {},
    secrets: {},
    configs: {},
    flotilla: { waitTimeoutSeconds: 5 },
    extensions: {},
    environment: {},
    ...fields,
  };
}

/** The shop: db ← orders ← gateway, inventory ← orders. */
export function shop(): Stack {
  return stack(
    [
      service('db', { image: 'postgres:15', healthcheck: healthy, volumes: [{ type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data', readOnly: false, nocopy: false }] }),
      service('inventory', { healthcheck: healthy }),
      service('orders', {
        healthcheck: healthy,
        dependsOn: {
          db: { condition: 'service_healthy', restart: true, required: true },
          inventory: { condition: 'service_healthy', restart: false, required: true },
        },
      }),
      service('gateway', {
        ports: [{ target: 80, published: '8080', hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }],
        dependsOn: { orders: { condition: 'service_started', restart: false, required: true } },
      }),
    ],
    { volumes: { pgdata: { name: 'demo_pgdata', external: false, driver: 'local', driverOpts: {}, labels: {} } } },
  );
}
