/**
 * The driver contract: everything Flotilla asks of a container runtime, in runtime-neutral terms.
 * `docker/` implements it over the Engine API; `fake/` in memory for unit tests. Nothing outside
 * `runtime/` imports a driver's internals or dockerode types.
 */
import type { ServiceSpec } from '../spec/types.js';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing';
export type HealthState = 'starting' | 'healthy' | 'unhealthy';

/** A container Flotilla created, as the runtime reports it (labels are the truth). */
export interface ObservedContainer {
  id: string;
  /** Without the leading slash. */
  name: string;
  project: string;
  service: string;
  replica: number;
  configHash: string;
  /** Image id the container runs (`sha256:…`). */
  imageId: string;
  state: ContainerState;
  /** Absent when the container has no healthcheck. */
  health?: HealthState;
  /** Meaningful when `state` is `exited` or `dead`. */
  exitCode: number;
  labels: Record<string, string>;
  ports: PublishedPort[];
}

export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: string;
}

export interface ObservedNetwork {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface ObservedVolume {
  name: string;
  labels: Record<string, string>;
}

/** What runs for one project, found by its labels. */
export interface ObservedState {
  containers: ObservedContainer[];
  networks: ObservedNetwork[];
  volumes: ObservedVolume[];
}

export interface ImageInfo {
  id: string;
  /** `name@sha256:…` for images that came from or went to a registry; empty for local builds. */
  repoDigests: string[];
  labels: Record<string, string>;
  /** The image's EXPOSE ports as `3000/tcp`, `53/udp`; absent when the runtime did not say. */
  exposedPorts?: string[];
}

export interface NetworkRequest {
  name: string;
  driver: string;
  driverOpts: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  enableIpv6: boolean;
  ipam?: { driver?: string; config: { subnet?: string; gateway?: string; ipRange?: string }[] };
  labels: Record<string, string>;
}

export interface VolumeRequest {
  name: string;
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

/** A file placed in the container before it starts (secrets and configs). */
export type ContainerFile =
  /** Bind-mounted read-only from the host. */
  | { target: string; hostPath: string }
  /** Copied into the container; never written to disk on the host, never put in a label. */
  | { target: string; content: Buffer; mode: number; uid: number; gid: number };

/** Everything needed to create one replica of a service. */
export interface ContainerRequest {
  name: string;
  /** Image to run: an id (`sha256:…`) so the container never follows a moved tag. */
  image: string;
  service: ServiceSpec;
  replica: number;
  labels: Record<string, string>;
  /** Networks by engine name, with aliases (the service name is always one). First is primary. */
  networks: { name: string; aliases: string[]; ipv4Address?: string; ipv6Address?: string }[];
  /** Compose volume key → engine volume name, for `type: volume` mounts with a source. */
  volumeNames: Record<string, string>;
  /** `network_mode: service:x` resolved to a container id. */
  networkModeContainer?: string;
  files: ContainerFile[];
}

/** A build of exactly the listed files (see `listContext` in build/), so what was hashed is what is sent. */
export interface BuildRequest {
  /** Absolute path of the context directory. */
  context: string;
  /** Paths under `context` to send, relative and `/`-separated (directories included); nothing else is sent. */
  entries: string[];
  /** The Dockerfile's name inside the context as sent: one of `entries`, or `dockerfileOutside.name`. */
  dockerfile: string;
  /** A Dockerfile from outside the context, read from `path` and sent as `name`. */
  dockerfileOutside?: { name: string; path: string };
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
  /** References to tag the result with. */
  tags: string[];
}

export interface LogOptions {
  follow: boolean;
  /** Lines from the end; undefined: all. */
  tail?: number;
  /**
   * Only lines stamped at or after this time (inclusive): Unix seconds, or the Engine's
   * `seconds.nanoseconds` text (`1700000000.123456789`) when nanoseconds matter (resuming a cursor).
   */
  since?: number | string;
  /** Prefix each line's text with its RFC 3339 time, as `docker logs -t` prints it. */
  timestamps: boolean;
  /** Give each line its time in `LogLine.time`, whatever `timestamps` does to the text. */
  lineTimes?: boolean;
  signal?: AbortSignal;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
  /** When the runtime received the line, RFC 3339 with up to nanoseconds; set when `lineTimes` asked for it. */
  time?: string;
}

/** What happened to a container, as the runtime's event stream reports it. */
export type ContainerEventAction = 'start' | 'die' | 'destroy';

/** One container event. */
export interface ContainerEvent {
  action: ContainerEventAction;
  id: string;
  /** The container's labels (the Engine sends them with every container event). */
  labels: Record<string, string>;
}

/** Options of containerEvents. */
export interface ContainerEventOptions {
  /** Ends the stream. */
  signal: AbortSignal;
  /** Also replay events since this Unix time in seconds, so a (re)subscription misses nothing. */
  since?: number;
}

export interface ExecOptions {
  command: string[];
  tty: boolean;
  /** Attach this stream as the command's stdin. */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env?: string[];
  user?: string;
  workdir?: string;
}

/** A network a container is on, with what it takes to put it back the same way. */
export interface NetworkAttachment {
  /** The network's name on the engine. */
  network: string;
  /** Names the container answers to on that network (the engine's own short-id alias left out). */
  aliases: string[];
  /** Set when the address was asked for (static), so reconnecting asks for it again. */
  ipv4Address?: string;
  ipv6Address?: string;
}

/** Progress of a long operation (pull, build), one line at a time. */
export type ProgressListener = (line: string) => void;

/** A container runtime. */
export interface Driver {
  /** Where the driver talks to, for messages: `unix:///var/run/docker.sock`. */
  readonly endpoint: string;
  /** Fails with a RuntimeError naming the endpoint and how to start the runtime when unreachable. */
  ping(): Promise<void>;
  /** Containers, networks and volumes labelled with this project. */
  observe(project: string): Promise<ObservedState>;
  /** Containers of every Flotilla project on the engine (any `dev.flotilla.project` label), running or not. */
  allProjectContainers(): Promise<ObservedContainer[]>;
  /** Containers, networks and volumes carrying `label` (`key=value`, or `key` for any value). */
  observeLabelled(label: string): Promise<ObservedState>;
  /** Host ports published by every running container on the engine, any project. */
  publishedPorts(): Promise<(PublishedPort & { containerId: string; containerName: string })[]>;

  inspectImage(reference: string): Promise<ImageInfo | undefined>;
  pullImage(reference: string, onProgress?: ProgressListener): Promise<ImageInfo>;
  buildImage(request: BuildRequest, onProgress?: ProgressListener): Promise<ImageInfo>;

  inspectNetwork(name: string): Promise<ObservedNetwork | undefined>;
  /** The host's address on the engine's default bridge, where containers reach the host (`host-gateway`); undefined when there is none. */
  hostGatewayAddress(): Promise<string | undefined>;
  createNetwork(request: NetworkRequest): Promise<void>;
  removeNetwork(name: string): Promise<void>;

  inspectVolume(name: string): Promise<ObservedVolume | undefined>;
  createVolume(request: VolumeRequest): Promise<void>;
  removeVolume(name: string): Promise<void>;

  /** Returns the new container's id. Fails with code CONTAINER_NAME_CONFLICT when the name is taken. */
  createContainer(request: ContainerRequest): Promise<string>;
  inspectContainer(idOrName: string): Promise<ObservedContainer | undefined>;
  /** The value of environment variable `name` as the container was created with it; undefined when it is unset or the container is gone. */
  containerEnv(idOrName: string, name: string): Promise<string | undefined>;
  startContainer(id: string): Promise<void>;
  /** Sends the stop signal, then SIGKILL after `timeoutSeconds`. No error when already stopped. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  restartContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Freezes every process of a running container (cgroup freezer); fails when it is not running. */
  pauseContainer(id: string): Promise<void>;
  /** Thaws a paused container; no error when it is not paused. */
  unpauseContainer(id: string): Promise<void>;
  /** Sends `signal` (`SIGKILL`, `SIGTERM`, a number) to the container's main process; fails when it is not running. */
  killContainer(id: string, signal: string): Promise<void>;
  /** The networks a container is on, with their aliases and static addresses. */
  containerNetworks(id: string): Promise<NetworkAttachment[]>;
  /** Takes a container off a network (forced); no error when it is not on it. */
  disconnectNetwork(network: string, containerId: string): Promise<void>;
  /** Puts a container on a network with these aliases and addresses; no error when it is already on it. */
  connectNetwork(containerId: string, attachment: NetworkAttachment): Promise<void>;
  /** Forced removal; `volumes` also removes anonymous volumes. No error when already gone. */
  removeContainer(id: string, options: { volumes: boolean }): Promise<void>;
  containerLogs(id: string, options: LogOptions): AsyncIterable<LogLine>;
  /**
   * Start, die and destroy events of Flotilla containers (any `dev.flotilla.project` label) as they
   * happen. Ends quietly when `signal` aborts, and when the runtime closes the stream (a restart).
   */
  containerEvents(options: ContainerEventOptions): AsyncIterable<ContainerEvent>;
  /** Runs a command in a running container; resolves to its exit code. */
  exec(id: string, options: ExecOptions): Promise<number>;
  /** Waits until the container exits and resolves to its exit code; `undefined` when `signal` aborted first. */
  waitContainer(id: string, signal?: AbortSignal): Promise<number | undefined>;
  /** The content of one regular file in a container (running or not); `undefined` when there is none at `path`. */
  readContainerFile(id: string, path: string): Promise<Buffer | undefined>;
}
