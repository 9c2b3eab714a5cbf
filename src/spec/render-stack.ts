/**
 * `flotilla config`: the resolved stack as a Compose file again: snake_case keys, long syntax,
 * every default written out, keys in a fixed order, absolute paths. The output loads back to the
 * same stack. Empty lists and mappings are left out; scalar defaults are shown.
 */
import { stringify } from 'yaml';
import { renderExperiments } from './render-experiments.js';
import type { ConfigSpec, DeploySpec, FileGrant, Healthcheck, NetworkSpec, PortSpec, SecretSpec, ServiceMeshSettings, ServiceSpec, ServiceVolume, Stack, TelemetrySettings, TestSuiteSpec, UpdateConfig, VolumeSpec } from './types.js';

type Plain = Record<string, unknown>;

/** The stack as Compose-shaped YAML or JSON text, ending with a newline. */
export function renderStack(stack: Stack, format: 'yaml' | 'json'): string {
  const document = stackDocument(stack);
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  // compat: quote strings that YAML 1.1 readers would take for booleans or numbers ("no", "0440").
  return stringify(document, { compat: 'yaml-1.1', lineWidth: 0, aliasDuplicateObjects: false });
}

function stackDocument(stack: Stack): Plain {
  const doc: Plain = { name: stack.name };
  doc['services'] = mapValues(stack.services, renderService);
  put(doc, 'networks', mapValues(stack.networks, renderNetwork));
  put(doc, 'volumes', mapValues(stack.volumes, renderVolume));
  put(doc, 'secrets', mapValues(stack.secrets, renderFileSource));
  put(doc, 'configs', mapValues(stack.configs, renderFileSource));
  doc['x-flotilla'] = {
    wait_timeout: `${stack.flotilla.waitTimeoutSeconds}s`,
    ...renderTelemetry(stack.flotilla.telemetry),
    ...(stack.flotilla.experiments && { experiments: renderExperiments(stack.flotilla.experiments) }),
    ...(stack.flotilla.mesh !== undefined && { mesh: stack.flotilla.mesh }),
  };
  for (const key of Object.keys(stack.extensions).sort()) doc[key] = stack.extensions[key];
  return doc;
}

function renderService(service: ServiceSpec): Plain {
  const out: Plain = {};
  if (service.build) {
    const build: Plain = { context: service.build.context, dockerfile: service.build.dockerfile };
    put(build, 'args', sorted(service.build.args));
    put(build, 'labels', sorted(service.build.labels));
    if (service.build.target !== undefined) build['target'] = service.build.target;
    out['build'] = build;
  }
  put(out, 'cap_add', service.capAdd);
  put(out, 'cap_drop', service.capDrop);
  if (service.command) out['command'] = service.command;
  put(out, 'configs', service.configs.map(renderGrant));
  put(out, 'depends_on', mapValues(sortedKeys(service.dependsOn), (dep) => ({ condition: dep.condition, required: dep.required, restart: dep.restart })));
  if (service.deploy) out['deploy'] = renderDeploy(service.deploy);
  if (service.domainname !== undefined) out['domainname'] = service.domainname;
  if (service.entrypoint) out['entrypoint'] = service.entrypoint;
  put(out, 'environment', sorted(service.environment));
  put(out, 'expose', service.expose);
  put(out, 'extra_hosts', extraHosts(service.extraHosts));
  if (service.healthcheck) out['healthcheck'] = renderHealthcheck(service.healthcheck);
  if (service.hostname !== undefined) out['hostname'] = service.hostname;
  out['image'] = service.image;
  if (service.init !== undefined) out['init'] = service.init;
  put(out, 'labels', sorted(service.labels));
  if (service.logging) {
    const logging: Plain = {};
    if (service.logging.driver !== undefined) logging['driver'] = service.logging.driver;
    put(logging, 'options', sorted(service.logging.options));
    out['logging'] = logging;
  }
  if (service.networkMode !== undefined) out['network_mode'] = service.networkMode;
  put(
    out,
    'networks',
    mapValues(sortedKeys(service.networks), (network) => {
      const value: Plain = {};
      put(value, 'aliases', network.aliases);
      if (network.ipv4Address !== undefined) value['ipv4_address'] = network.ipv4Address;
      if (network.ipv6Address !== undefined) value['ipv6_address'] = network.ipv6Address;
      return Object.keys(value).length === 0 ? null : value;
    }),
  );
  put(out, 'ports', service.ports.map(renderPort));
  out['privileged'] = service.privileged;
  put(out, 'profiles', service.profiles);
  out['pull_policy'] = service.pullPolicy;
  out['read_only'] = service.readOnly;
  out['restart'] = service.restart;
  out['scale'] = service.replicas;
  put(out, 'secrets', service.secrets.map(renderGrant));
  out['stdin_open'] = service.stdinOpen;
  out['stop_grace_period'] = service.stopGracePeriod;
  if (service.stopSignal !== undefined) out['stop_signal'] = service.stopSignal;
  out['tty'] = service.tty;
  put(out, 'ulimits', mapValues(sortedKeys(service.ulimits), (limit) => ({ soft: limit.soft, hard: limit.hard })));
  if (service.user !== undefined) out['user'] = service.user;
  put(out, 'volumes', service.volumes.map(renderVolumeMount));
  if (service.workingDir !== undefined) out['working_dir'] = service.workingDir;
  const extensions: Plain = { ...service.extensions };
  const flotilla: Plain = {};
  if (Object.keys(service.flotilla.tests).length > 0) flotilla['tests'] = mapValues(sortedKeys(service.flotilla.tests), renderSuite);
  if (service.flotilla.telemetry !== undefined) flotilla['telemetry'] = service.flotilla.telemetry;
  if (service.flotilla.mesh !== undefined) flotilla['mesh'] = renderMesh(service.flotilla.mesh);
  if (Object.keys(flotilla).length > 0) extensions['x-flotilla'] = flotilla;
  for (const key of Object.keys(extensions).sort()) out[key] = extensions[key];
  return out;
}

/** `false`, `true` for empty settings, else the mapping as resolved. */
function renderMesh(mesh: false | ServiceMeshSettings): unknown {
  if (mesh === false) return false;
  if (Object.keys(mesh.ports).length === 0 && mesh.resilience === undefined && mesh.tracesPerSecond === undefined) return true;
  return {
    ...(Object.keys(mesh.ports).length > 0 && { ports: { ...mesh.ports } }),
    ...(mesh.resilience && { resilience: mesh.resilience }),
    ...(mesh.tracesPerSecond !== undefined && { traces_per_second: mesh.tracesPerSecond }),
  };
}

/** `telemetry` only when it differs from the default (on, Flotilla's collector), so most files show none. */
function renderTelemetry(telemetry: TelemetrySettings | undefined): Plain {
  if (!telemetry || (telemetry.enabled && telemetry.endpoint === undefined)) return {};
  return { telemetry: telemetry.enabled ? { endpoint: telemetry.endpoint } : false };
}

/** A test suite with its defaults; `after` in the `service:suite` form. */
function renderSuite(suite: TestSuiteSpec): Plain {
  const out: Plain = {};
  put(out, 'after', suite.after);
  out['command'] = suite.command;
  put(out, 'environment', sorted(suite.environment));
  if (suite.image !== undefined) out['image'] = suite.image;
  if (suite.junit !== undefined) out['junit'] = suite.junit;
  put(out, 'matrix', sortedKeys(suite.matrix));
  put(out, 'needs', suite.needs);
  if (suite.target !== undefined) out['target'] = suite.target;
  out['timeout'] = suite.timeout;
  if (suite.workingDir !== undefined) out['working_dir'] = suite.workingDir;
  return out;
}

function renderPort(port: PortSpec): Plain {
  const out: Plain = { target: port.target };
  if (port.published !== undefined) out['published'] = port.published;
  if (port.hostIp !== undefined) out['host_ip'] = port.hostIp;
  out['protocol'] = port.protocol;
  out['mode'] = port.mode;
  return out;
}

function renderVolumeMount(volume: ServiceVolume): Plain {
  switch (volume.type) {
    case 'volume': {
      const out: Plain = { type: 'volume' };
      if (volume.source !== undefined) out['source'] = volume.source;
      return { ...out, target: volume.target, read_only: volume.readOnly, volume: { nocopy: volume.nocopy } };
    }
    case 'bind':
      return { type: 'bind', source: volume.source, target: volume.target, read_only: volume.readOnly, bind: { create_host_path: volume.createHostPath } };
    case 'tmpfs': {
      const tmpfs: Plain = {};
      if (volume.size !== undefined) tmpfs['size'] = volume.size;
      if (volume.mode !== undefined) tmpfs['mode'] = octal(volume.mode);
      return { type: 'tmpfs', target: volume.target, ...(Object.keys(tmpfs).length > 0 ? { tmpfs } : {}) };
    }
  }
}

function renderHealthcheck(healthcheck: Healthcheck): Plain {
  if (healthcheck.disable) return { disable: true };
  const out: Plain = {};
  put(out, 'test', healthcheck.test);
  return {
    ...out,
    interval: healthcheck.interval,
    timeout: healthcheck.timeout,
    retries: healthcheck.retries,
    start_period: healthcheck.startPeriod,
    start_interval: healthcheck.startInterval,
  };
}

function renderDeploy(deploy: DeploySpec): Plain {
  const out: Plain = { mode: deploy.mode };
  if (deploy.replicas !== undefined) out['replicas'] = deploy.replicas;
  const resources: Plain = {};
  if (deploy.resources.limits) resources['limits'] = { ...deploy.resources.limits };
  if (deploy.resources.reservations) resources['reservations'] = { ...deploy.resources.reservations };
  put(out, 'resources', resources);
  if (deploy.restartPolicy) {
    const policy = deploy.restartPolicy;
    const restart: Plain = { condition: policy.condition };
    if (policy.delay !== undefined) restart['delay'] = policy.delay;
    if (policy.maxAttempts !== undefined) restart['max_attempts'] = policy.maxAttempts;
    if (policy.window !== undefined) restart['window'] = policy.window;
    out['restart_policy'] = restart;
  }
  if (deploy.updateConfig) out['update_config'] = renderUpdate(deploy.updateConfig);
  if (deploy.rollbackConfig) out['rollback_config'] = renderUpdate(deploy.rollbackConfig);
  put(out, 'labels', sorted(deploy.labels));
  if (deploy.placement) {
    const placement: Plain = {};
    put(placement, 'constraints', deploy.placement.constraints);
    put(placement, 'preferences', deploy.placement.preferences.map((p) => ({ spread: p.spread })));
    out['placement'] = placement;
  }
  return out;
}

function renderUpdate(config: UpdateConfig): Plain {
  return {
    parallelism: config.parallelism,
    delay: config.delay,
    failure_action: config.failureAction,
    monitor: config.monitor,
    max_failure_ratio: config.maxFailureRatio,
    order: config.order,
  };
}

function renderGrant(grant: FileGrant): Plain {
  const out: Plain = { source: grant.source, target: grant.target };
  if (grant.uid !== undefined) out['uid'] = grant.uid;
  if (grant.gid !== undefined) out['gid'] = grant.gid;
  if (grant.mode !== undefined) out['mode'] = octal(grant.mode);
  return out;
}

function renderNetwork(network: NetworkSpec): Plain {
  if (network.external) return { name: network.name, external: true };
  const out: Plain = { name: network.name, driver: network.driver };
  put(out, 'driver_opts', sorted(network.driverOpts));
  out['internal'] = network.internal;
  out['attachable'] = network.attachable;
  out['enable_ipv6'] = network.enableIpv6;
  if (network.ipam) {
    const ipam: Plain = {};
    if (network.ipam.driver !== undefined) ipam['driver'] = network.ipam.driver;
    put(
      ipam,
      'config',
      network.ipam.config.map((pool) => {
        const value: Plain = {};
        if (pool.subnet !== undefined) value['subnet'] = pool.subnet;
        if (pool.gateway !== undefined) value['gateway'] = pool.gateway;
        if (pool.ipRange !== undefined) value['ip_range'] = pool.ipRange;
        return value;
      }),
    );
    out['ipam'] = ipam;
  }
  put(out, 'labels', sorted(network.labels));
  return out;
}

function renderVolume(volume: VolumeSpec): Plain {
  if (volume.external) return { name: volume.name, external: true };
  const out: Plain = { name: volume.name, driver: volume.driver };
  put(out, 'driver_opts', sorted(volume.driverOpts));
  put(out, 'labels', sorted(volume.labels));
  return out;
}

function renderFileSource(source: SecretSpec | ConfigSpec): Plain {
  if ('file' in source) return { name: source.name, file: source.file };
  if ('environment' in source) return { name: source.name, environment: source.environment };
  if ('content' in source) return { name: source.name, content: source.content };
  return { name: source.name, external: true };
}

/** extra_hosts in the mapping form; a host with several addresses gets a list. */
function extraHosts(hosts: readonly { host: string; ip: string }[]): Plain {
  const out: Record<string, string | string[]> = {};
  for (const { host, ip } of hosts) {
    const existing = out[host];
    out[host] = existing === undefined ? ip : [...(Array.isArray(existing) ? existing : [existing]), ip];
  }
  return out;
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}

function sorted(record: Record<string, string>): Record<string, string> {
  return sortedKeys(record);
}

/** The same record with its keys in code-point order, so output never depends on how the input was written. */
function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function mapValues<T, U>(record: Record<string, T>, render: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, render(value)]));
}

/** Sets `key` unless the value is an empty list or mapping. */
function put(target: Plain, key: string, value: unknown[] | Record<string, unknown>): void {
  if (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0) target[key] = value;
}
