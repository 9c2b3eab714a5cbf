/**
 * An in-memory driver for unit tests of everything above the runtime. It keeps containers,
 * networks, volumes and images in maps, records every call, and lets a test decide how a
 * service's containers behave once started (healthy, unhealthy, exit with a code).
 */
import { FlotillaError, RuntimeError } from '../../core/errors.js';
import type {
  BuildRequest,
  ContainerEvent,
  ContainerEventOptions,
  ContainerRequest,
  Driver,
  ImageInfo,
  LogLine,
  LogOptions,
  NetworkAttachment,
  NetworkRequest,
  ObservedContainer,
  ObservedNetwork,
  ObservedState,
  ObservedVolume,
  VolumeRequest,
} from '../driver.js';
import { Label } from '../labels.js';
import { FakeOutput } from './fake-output.js';

/** What a command run with exec does in a fake container: its exit code and output. */
export type FakeExec = (container: ObservedContainer, command: string[]) => { exitCode: number; stdout?: string; stderr?: string };

/** What a started container of a service does. */
export type FakeBehaviour = { kind: 'run' } | { kind: 'unhealthy' } | { kind: 'exit'; code: number };

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

export class FakeDriver implements Driver {
  readonly endpoint = 'fake://';
  readonly calls: string[] = [];
  readonly containers = new Map<string, ObservedContainer>();
  readonly networks = new Map<string, ObservedNetwork>();
  readonly volumes = new Map<string, ObservedVolume>();
  readonly images = new Map<string, ImageInfo>();
  /** Behaviour per service name; default `run`. */
  readonly behaviour = new Map<string, FakeBehaviour>();
  /** What containers print (`output.write(id, text)`), read by containerLogs; and the event stream. */
  readonly output = new FakeOutput();
  /** Networks each container is on, by container id (from the create request). */
  readonly attachments = new Map<string, NetworkAttachment[]>();
  /** The environment each container was created with, by container id (from the create request). */
  readonly environments = new Map<string, Record<string, string>>();
  /** What exec does; default: exit 0 and print nothing. */
  execHandler: FakeExec | undefined;
  private nextId = 1;

  /** Makes `reference` name an image; `details` gives it labels and repo digests. */
  addImage(reference: string, id = `sha256:${reference.replace(/\W/g, '')}`, details: Partial<Omit<ImageInfo, 'id'>> = {}): void {
    this.images.set(reference, { id, repoDigests: [], labels: {}, ...details });
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  observe(project: string): Promise<ObservedState> {
    return this.observeLabelled(`${Label.project}=${project}`);
  }

  observeLabelled(label: string): Promise<ObservedState> {
    const [key = '', value] = label.split('=', 2);
    const matching = <T extends { labels: Record<string, string> }>(items: Iterable<T>) =>
      [...items].filter((item) => (value === undefined ? key in item.labels : item.labels[key] === value)).map((item) => ({ ...item }));
    return Promise.resolve({
      containers: matching(this.containers.values()),
      networks: matching(this.networks.values()),
      volumes: matching(this.volumes.values()),
    });
  }

  allProjectContainers(): Promise<ObservedContainer[]> {
    return Promise.resolve([...this.containers.values()].filter((c) => Label.project in c.labels).map((c) => ({ ...c })));
  }

  publishedPorts() {
    return Promise.resolve(
      [...this.containers.values()]
        .filter((container) => container.state === 'running')
        .flatMap((container) => container.ports.map((port) => ({ ...port, containerId: container.id, containerName: container.name }))),
    );
  }

  /** As the Engine does: a reference, else a full id, a repo digest, or an id prefix matching one image only. */
  inspectImage(reference: string): Promise<ImageInfo | undefined> {
    const named = this.images.get(reference);
    if (named) return Promise.resolve(named);
    const all = [...this.images.values()];
    const hex = reference.replace(/^sha256:/, '');
    const exact = all.find((image) => image.id === reference || image.repoDigests.includes(reference));
    const isHex = /^[0-9a-f]+$/.test(hex);
    const byPrefix = new Map(all.filter((image) => isHex && image.id.replace(/^sha256:/, '').startsWith(hex)).map((image) => [image.id, image]));
    return Promise.resolve(exact ?? (byPrefix.size === 1 ? [...byPrefix.values()][0] : undefined));
  }

  pullImage(reference: string): Promise<ImageInfo> {
    this.calls.push(`pull ${reference}`);
    this.addImage(reference);
    return Promise.resolve(this.images.get(reference) as ImageInfo);
  }

  buildImage(request: BuildRequest): Promise<ImageInfo> {
    this.calls.push(`build ${request.tags.join(',')}`);
    const id = `sha256:built${this.nextId++}`;
    for (const tag of request.tags) this.addImage(tag, id, { labels: request.labels });
    return Promise.resolve({ id, repoDigests: [], labels: request.labels });
  }

  inspectNetwork(name: string): Promise<ObservedNetwork | undefined> {
    return Promise.resolve(this.networks.get(name));
  }

  hostGatewayAddress(): Promise<string | undefined> {
    return Promise.resolve('172.17.0.1');
  }

  createNetwork(request: NetworkRequest): Promise<void> {
    this.calls.push(`create network ${request.name}`);
    this.networks.set(request.name, { id: `net${this.nextId++}`, name: request.name, labels: request.labels });
    return Promise.resolve();
  }

  removeNetwork(name: string): Promise<void> {
    this.calls.push(`remove network ${name}`);
    this.networks.delete(name);
    return Promise.resolve();
  }

  inspectVolume(name: string): Promise<ObservedVolume | undefined> {
    return Promise.resolve(this.volumes.get(name));
  }

  createVolume(request: VolumeRequest): Promise<void> {
    this.calls.push(`create volume ${request.name}`);
    this.volumes.set(request.name, { name: request.name, labels: request.labels });
    return Promise.resolve();
  }

  removeVolume(name: string): Promise<void> {
    this.calls.push(`remove volume ${name}`);
    this.volumes.delete(name);
    return Promise.resolve();
  }

  createContainer(request: ContainerRequest): Promise<string> {
    this.calls.push(`create container ${request.name}`);
    if ([...this.containers.values()].some((container) => container.name === request.name)) {
      return Promise.reject(new RuntimeError('CONTAINER_NAME_CONFLICT', `container name ${request.name} is already in use`));
    }
    const id = `c${this.nextId++}`;
    this.containers.set(id, {
      id,
      name: request.name,
      project: request.labels[Label.project] ?? '',
      service: request.service.name,
      replica: request.replica,
      configHash: request.labels[Label.configHash] ?? '',
      imageId: request.image,
      state: 'created',
      exitCode: 0,
      labels: request.labels,
      ports: request.service.ports
        .filter((port) => port.published !== undefined)
        .map((port) => ({ hostIp: port.hostIp ?? '0.0.0.0', hostPort: Number(port.published), containerPort: port.target, protocol: port.protocol })),
      ...(request.service.healthcheck && !request.service.healthcheck.disable ? { health: 'starting' as const } : {}),
    });
    this.environments.set(id, { ...request.service.environment });
    this.attachments.set(
      id,
      request.networks.map((network) => ({
        network: network.name,
        aliases: [...network.aliases],
        ...(network.ipv4Address !== undefined && { ipv4Address: network.ipv4Address }),
        ...(network.ipv6Address !== undefined && { ipv6Address: network.ipv6Address }),
      })),
    );
    return Promise.resolve(id);
  }

  inspectContainer(idOrName: string): Promise<ObservedContainer | undefined> {
    const container = this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
    return Promise.resolve(container && { ...container });
  }

  containerEnv(idOrName: string, name: string): Promise<string | undefined> {
    const container = this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
    return Promise.resolve(container && this.environments.get(container.id)?.[name]);
  }

  startContainer(id: string): Promise<void> {
    const container = this.mustGet(id);
    this.calls.push(`start container ${container.name}`);
    const behaviour = this.behaviour.get(container.service) ?? { kind: 'run' };
    if (behaviour.kind === 'exit') {
      Object.assign(container, { state: 'exited', exitCode: behaviour.code });
      if (container.health) container.health = 'unhealthy';
    } else {
      container.state = 'running';
      if (container.health) container.health = behaviour.kind === 'unhealthy' ? 'unhealthy' : 'healthy';
    }
    this.emit('start', container);
    if (container.state === 'exited') this.emit('die', container);
    return Promise.resolve();
  }

  stopContainer(id: string): Promise<void> {
    const container = this.mustGet(id);
    this.calls.push(`stop container ${container.name}`);
    if (container.state === 'running') {
      Object.assign(container, { state: 'exited', exitCode: 137 });
      this.emit('die', container);
    }
    return Promise.resolve();
  }

  async restartContainer(id: string): Promise<void> {
    const container = this.mustGet(id);
    this.calls.push(`restart container ${container.name}`);
    if (container.state === 'running') {
      container.state = 'exited';
      this.emit('die', container);
    }
    await this.startContainer(id);
    this.calls.pop();
  }

  pauseContainer(id: string): Promise<void> {
    const container = this.mustGet(id);
    this.calls.push(`pause container ${container.name}`);
    if (container.state !== 'running') return Promise.reject(new RuntimeError('CONTAINER_NOT_RUNNING', `container ${container.name} is not running`));
    container.state = 'paused';
    return Promise.resolve();
  }

  unpauseContainer(id: string): Promise<void> {
    const container = this.mustGet(id);
    this.calls.push(`unpause container ${container.name}`);
    if (container.state === 'paused') container.state = 'running';
    return Promise.resolve();
  }

  killContainer(id: string, signal: string): Promise<void> {
    const container = this.mustGet(id);
    this.calls.push(`kill container ${container.name} ${signal}`);
    if (container.state !== 'running') return Promise.reject(new RuntimeError('CONTAINER_NOT_RUNNING', `container ${container.name} is not running`));
    // Every signal ends a fake container: it has no handlers.
    Object.assign(container, { state: 'exited', exitCode: 128 + (SIGNAL_NUMBERS[signal] ?? 9) });
    this.emit('die', container);
    return Promise.resolve();
  }

  containerNetworks(id: string): Promise<NetworkAttachment[]> {
    this.mustGet(id);
    return Promise.resolve((this.attachments.get(id) ?? []).map((attachment) => ({ ...attachment, aliases: [...attachment.aliases] })));
  }

  disconnectNetwork(network: string, containerId: string): Promise<void> {
    const container = this.mustGet(containerId);
    this.calls.push(`disconnect container ${container.name} from ${network}`);
    this.attachments.set(containerId, (this.attachments.get(containerId) ?? []).filter((attachment) => attachment.network !== network));
    return Promise.resolve();
  }

  connectNetwork(containerId: string, attachment: NetworkAttachment): Promise<void> {
    const container = this.mustGet(containerId);
    this.calls.push(`connect container ${container.name} to ${attachment.network} as ${attachment.aliases.join(',')}`);
    const current = (this.attachments.get(containerId) ?? []).filter((existing) => existing.network !== attachment.network);
    this.attachments.set(containerId, [...current, { ...attachment, aliases: [...attachment.aliases] }]);
    return Promise.resolve();
  }

  removeContainer(id: string): Promise<void> {
    const container = this.containers.get(id);
    if (container) this.calls.push(`remove container ${container.name}`);
    this.containers.delete(id);
    if (container?.state === 'running') this.emit('die', container);
    if (container) this.emit('destroy', container);
    return Promise.resolve();
  }

  async *containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine> {
    if (!this.containers.has(id)) throw new RuntimeError('CONTAINER_NOT_FOUND', `no container ${id}`);
    yield* this.output.read(id, options, () => this.containers.get(id)?.state === 'running');
  }

  containerEvents(options: ContainerEventOptions): AsyncIterable<ContainerEvent> {
    return this.output.events(options);
  }

  /** Files a test placed in containers, by container name then path. */
  readonly files = new Map<string, Map<string, Buffer>>();

  /** The exit code of a container that exited (behaviour `exit`); a running one never does here. */
  waitContainer(id: string): Promise<number | undefined> {
    const container = this.mustGet(id);
    return Promise.resolve(container.state === 'exited' ? container.exitCode : undefined);
  }

  readContainerFile(id: string, path: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.files.get(this.mustGet(id).name)?.get(path));
  }

  exec(id: string, options: { command: string[]; stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream }): Promise<number> {
    const container = this.mustGet(id);
    this.calls.push(`exec ${container.name} ${options.command.join(' ')}`);
    if (container.state !== 'running') return Promise.reject(new RuntimeError('CONTAINER_NOT_RUNNING', `container ${container.name} is not running`));
    const result = this.execHandler?.(container, options.command) ?? { exitCode: 0 };
    if (result.stdout) options.stdout?.write(result.stdout);
    if (result.stderr) options.stderr?.write(result.stderr);
    return Promise.resolve(result.exitCode);
  }

  /** Events are raised for Flotilla containers only, as the docker driver's label filter does. */
  private emit(action: ContainerEvent['action'], container: ObservedContainer): void {
    if (Label.project in container.labels) this.output.emit({ action, id: container.id, labels: { ...container.labels } });
  }

  private mustGet(id: string): ObservedContainer {
    const container = this.containers.get(id);
    if (!container) throw new FlotillaError('CONTAINER_NOT_FOUND', `no container ${id}`);
    return container;
  }
}
