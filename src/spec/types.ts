/**
 * The resolved stack: what the Compose loader hands to every other part of Flotilla.
 *
 * Every short syntax is expanded to its long form, every default applied, every relative path
 * made absolute, every variable interpolated; the only optional fields left are those whose
 * absence means something (no image given, no healthcheck declared, no user set).
 * Durations stay in Compose's Go-style text form (`1m30s`) so `flotilla config` prints what users
 * wrote; `parseDuration` in ./duration.ts turns them into milliseconds.
 */

/** A resolved Compose project. */
export interface Stack {
  /** Project name: `-p`, else COMPOSE_PROJECT_NAME, else top-level `name:`, else the directory of the first file. */
  name: string;
  /** Directory that relative paths were resolved against (the first file's directory, or --project-directory). */
  workingDir: string;
  /** Absolute paths of the Compose files, in merge order (includes first, then `-f` order). */
  files: string[];
  /** Enabled services only (profiles applied), keyed by name, in sorted order. */
  services: Record<string, ServiceSpec>;
  /** Services declared but not enabled by the active profiles: their containers are not orphans. */
  disabledServices: string[];
  /** Networks; `default` is added when a service uses it (explicitly or by having no `networks:`). */
  networks: Record<string, NetworkSpec>;
  volumes: Record<string, VolumeSpec>;
  secrets: Record<string, SecretSpec>;
  configs: Record<string, ConfigSpec>;
  /** Flotilla's settings from the top-level `x-flotilla` block, defaults applied. */
  flotilla: StackFlotillaSettings;
  /** Other top-level `x-` keys, kept verbatim and otherwise ignored. */
  extensions: Record<string, unknown>;
  /**
   * The project environment: the shell's variables over the env files'. Secrets and configs with
   * an `environment:` source are read from it. Never rendered, labelled or stored.
   */
  environment: Record<string, string>;
}

/** Top-level `x-flotilla`. Grows with later capabilities (mesh, tests, experiments). */
export interface StackFlotillaSettings {
  /** Seconds `up --wait` and dependency conditions wait before failing. Default 300. */
  waitTimeoutSeconds: number;
  /**
   * `x-flotilla.telemetry`: whether `up` points the services' OpenTelemetry SDKs at a collector.
   * The loader always sets it; a stack built in code without it gets the defaults.
   */
  telemetry?: TelemetrySettings;
  /** `x-flotilla.experiments`: chaos experiments by name; set when the file declares any. */
  experiments?: Record<string, ExperimentSpec>;
  /** `x-flotilla.mesh`: `true` puts a mesh proxy in front of every service (a service's own setting wins). Set when written. */
  mesh?: boolean;
}

/** Where `up` sends the services' telemetry (OTEL_EXPORTER_OTLP_ENDPOINT and friends). */
export interface TelemetrySettings {
  /** `false` after `telemetry: false`: no OTEL_* variable is set. Default true. */
  enabled: boolean;
  /** OTLP/HTTP base URL; absent: Flotilla's own collector, as containers reach it on this host. */
  endpoint?: string;
}

/** Per-service `x-flotilla`. */
export interface ServiceFlotillaSettings {
  /** Test suites, by name (`x-flotilla.tests`). */
  tests: Record<string, TestSuiteSpec>;
  /** `x-flotilla.telemetry` of the service: `false` turns the OTEL_* variables off for it, `true` on; absent: the stack's setting. */
  telemetry?: boolean;
  /** `x-flotilla.mesh` of the service: `false` keeps it out of the mesh; settings (`true` is empty ones) put it in; absent: the stack's setting. */
  mesh?: false | ServiceMeshSettings;
}

/** The protocol a mesh proxy speaks on a port: HTTP/1.1 (per-request telemetry, message faults, retries) or plain TCP. */
export type MeshProtocol = 'http' | 'tcp';

/** A meshed service's settings (`x-flotilla.mesh` as a mapping). */
export interface ServiceMeshSettings {
  /** Container port (decimal text) → protocol, as written; ports not listed are found and their protocol inferred by `up`. */
  ports: Record<string, MeshProtocol>;
  /**
   * Timeouts, retries and ejection for the HTTP ports, in the proxy's JSON form (snake_case, as the
   * Toxiproxy-compatible API takes it), only what was written: the proxy fills in its defaults.
   */
  resilience?: MeshResilience;
  /** Traces a second the proxy starts (callers' sampled traces are followed, failures always kept); the proxy's default (100) when absent. */
  tracesPerSecond?: number;
}

/** `x-flotilla.mesh.resilience` as written: every field optional (the mesh's `resilienceSchema` input). */
export interface MeshResilience {
  attempt_timeout_ms?: number;
  timeout_ms?: number;
  /** Longest silence of an upstream's answer body once its head arrived. */
  body_idle_timeout_ms?: number;
  retries?: { attempts?: number; on_status?: number[]; on_errors?: ('connect' | 'reset' | 'timeout')[]; backoff_ms?: number };
  budget?: { ratio?: number; window_ms?: number; min_retries?: number };
  ejection?: { consecutive_failures?: number; cool_off_ms?: number };
}

/**
 * A test suite of a service: a command run in a fresh container, with fresh copies of the
 * services it needs on a network of its own, once per cell of its matrix.
 */
export interface TestSuiteSpec {
  name: string;
  /** Exec form; a string is split the way a POSIX shell would. */
  command: string[];
  /** Run in this image reference instead of the service's own image. */
  image?: string;
  /** Run in this build target of the service's `build:` (the service's own build otherwise). */
  target?: string;
  /** Services started fresh for each run of this suite, with their own dependencies. */
  needs: string[];
  /** Added to the service's own environment. */
  environment: Record<string, string>;
  /** Go-style duration; default `10m`. A run that takes longer fails. */
  timeout: string;
  /** Absolute path inside the container where the suite writes JUnit XML. */
  junit?: string;
  /** Suites that must have passed before this one starts: `suite` (same service) or `service:suite`. */
  after: string[];
  /** Variable → values; every combination is a run of its own, each value passed as a build arg and an environment variable. */
  matrix: Record<string, string[]>;
  workingDir?: string;
}

export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | `on-failure` | `on-failure:${number}`;
export type PullPolicy = 'always' | 'never' | 'missing' | 'build' | 'daily' | 'weekly';
export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

/** A resolved service. */
export interface ServiceSpec {
  name: string;
  /**
   * The image to run. When the service has `build:` and no `image:`, this is `<project>-<service>`
   * (what Compose names it), so every service has an image reference.
   */
  image: string;
  build?: BuildSpec;
  /** Exec form; a string command is split the way a POSIX shell would. `undefined`: the image's. */
  command?: string[];
  entrypoint?: string[];
  /** Environment after env_file and `environment` are merged; a bare `KEY` takes the value from the shell or .env, and is dropped when unset there. */
  environment: Record<string, string>;
  ports: PortSpec[];
  expose: string[];
  volumes: ServiceVolume[];
  /** Networks the service joins; empty when `network_mode` is set. */
  networks: Record<string, ServiceNetwork>;
  /** `host`, `none`, `bridge`, `service:<name>`, `container:<id>`. */
  networkMode?: string;
  dependsOn: Record<string, Dependency>;
  healthcheck?: Healthcheck;
  restart: RestartPolicy;
  deploy?: DeploySpec;
  /** Replicas to run: `deploy.replicas`, else `scale`, else 1. */
  replicas: number;
  labels: Record<string, string>;
  user?: string;
  workingDir?: string;
  init?: boolean;
  stopSignal?: string;
  /** Go-style duration; default `10s`. */
  stopGracePeriod: string;
  secrets: FileGrant[];
  configs: FileGrant[];
  /** `host:ip` pairs, in order. */
  extraHosts: { host: string; ip: string }[];
  hostname?: string;
  domainname?: string;
  capAdd: string[];
  capDrop: string[];
  readOnly: boolean;
  privileged: boolean;
  tty: boolean;
  stdinOpen: boolean;
  ulimits: Record<string, { soft: number; hard: number }>;
  logging?: { driver?: string; options: Record<string, string> };
  pullPolicy: PullPolicy;
  /** Profiles the service belongs to (empty: always enabled). */
  profiles: string[];
  flotilla: ServiceFlotillaSettings;
  /** The service's own `x-` keys other than `x-flotilla`, kept verbatim. */
  extensions: Record<string, unknown>;
}

export interface BuildSpec {
  /** Absolute path (or a git/URL context, kept verbatim). */
  context: string;
  /** Relative to the context; default `Dockerfile`. */
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
}

export interface PortSpec {
  /** Container port. */
  target: number;
  /** Host port or range (`8080`, `8080-8090`); absent: Docker picks an ephemeral port. */
  published?: string;
  /** Host IP to bind; absent: all interfaces. */
  hostIp?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  mode: 'ingress' | 'host';
}

export type ServiceVolume =
  | { type: 'volume'; source?: string; target: string; readOnly: boolean; nocopy: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean; createHostPath: boolean }
  | { type: 'tmpfs'; target: string; size?: number; mode?: number };

export interface ServiceNetwork {
  aliases: string[];
  ipv4Address?: string;
  ipv6Address?: string;
}

export interface Dependency {
  condition: DependencyCondition;
  /** Restart this service when the dependency is recreated or restarted. */
  restart: boolean;
  /** When false, a missing or disabled dependency is skipped with a warning. */
  required: boolean;
}

/** A declared healthcheck; `disable: true` turns off the image's own. */
export type Healthcheck =
  | { disable: true }
  | {
      disable: false;
      /**
       * Docker form: `['CMD', ...]` or `['CMD-SHELL', '...']`. Empty when the file sets only timings:
       * the image's own test is kept (Docker reads an empty Test that way). `NONE` becomes `{ disable: true }`.
       */
      test: string[];
      interval: string;
      timeout: string;
      retries: number;
      startPeriod: string;
      startInterval: string;
    };

export interface DeploySpec {
  mode: 'replicated' | 'global';
  replicas?: number;
  resources: {
    limits?: { cpus?: number; memory?: number; pids?: number };
    reservations?: { cpus?: number; memory?: number };
  };
  restartPolicy?: { condition: 'none' | 'on-failure' | 'any'; delay?: string; maxAttempts?: number; window?: string };
  updateConfig?: UpdateConfig;
  rollbackConfig?: UpdateConfig;
  labels: Record<string, string>;
  placement?: { constraints: string[]; preferences: { spread: string }[] };
}

export interface UpdateConfig {
  parallelism: number;
  delay: string;
  failureAction: 'continue' | 'rollback' | 'pause';
  monitor: string;
  maxFailureRatio: number;
  order: 'stop-first' | 'start-first';
}

/** A secret or config granted to a service, as a file inside the container. */
export interface FileGrant {
  source: string;
  /** Absolute path in the container; default `/run/secrets/<source>` or `/<source>` for configs. */
  target: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface NetworkSpec {
  /** Name on the engine: `<project>_<key>` unless `name:` or external. */
  name: string;
  external: boolean;
  driver: string;
  driverOpts: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  enableIpv6: boolean;
  ipam?: { driver?: string; config: { subnet?: string; gateway?: string; ipRange?: string }[] };
  labels: Record<string, string>;
}

export interface VolumeSpec {
  /** Name on the engine: `<project>_<key>` unless `name:` or external. */
  name: string;
  external: boolean;
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

/** A secret: from a file (absolute path) or an environment variable of the Flotilla process. */
export type SecretSpec =
  | { name: string; external: boolean; file: string }
  | { name: string; external: boolean; environment: string }
  | { name: string; external: true };

/** A config: like a secret, plus inline `content`. */
export type ConfigSpec =
  | { name: string; external: boolean; file: string }
  | { name: string; external: boolean; environment: string }
  | { name: string; external: boolean; content: string }
  | { name: string; external: true };

/**
 * A chaos experiment (`x-flotilla.experiments.<name>`, or a file given to `flotilla chaos run`):
 * a steady-state hypothesis checked before and after a method, a load driven during the method,
 * and rollbacks run whatever happens. Durations stay in their Go-style text form (`30s`).
 */
export interface ExperimentSpec {
  name: string;
  description?: string;
  /** Probes that must all hold before the method (else nothing is applied) and after it. */
  hypothesis: ProbeSpec[];
  /** Actions, each applied `at` its offset from the start of the method. */
  method: ActionSpec[];
  load?: LoadSpec;
  /** Run after the after-check whatever happened; faults, pauses and network cuts are undone on their own. */
  rollbacks: RollbackSpec[];
  /** Wait this long after the method before checking the hypothesis again. Default `0s`. */
  settle: string;
}

/** A probe: a named check of the steady state. */
export type ProbeSpec = HttpProbeSpec | CollectorProbeSpec | CommandProbeSpec;

/** An HTTP request, as a probe or as the load's request. */
export interface HttpRequestSpec {
  url: string;
  /** Upper case; default GET. */
  method: string;
  /** Sent as is; a mapping in the file is sent as JSON (with content-type application/json unless a header sets one). */
  body?: string;
  headers: Record<string, string>;
  /** Per request; default `5s`. */
  timeout: string;
}

/** An HTTP call with the status, text or JSON it must answer. */
export interface HttpProbeSpec {
  kind: 'http';
  /** `http` probes are named `http <METHOD> <url>` unless `name` is set. */
  name: string;
  request: HttpRequestSpec;
  expect: {
    /** Any of these statuses; default: any status below 400. */
    status?: number[];
    bodyContains?: string;
    /** The response body parsed as JSON must contain this (objects: a subset of keys; arrays and scalars: equal). */
    json?: unknown;
  };
}

/** What a collector probe reads from the collector's RED metrics. */
export type CollectorQueryKind = 'error_rate' | 'p50' | 'p95' | 'p99' | 'calls' | 'rate';

/** A figure from the collector over a window, with a bound. */
export interface CollectorProbeSpec {
  kind: 'collector';
  name: string;
  query: CollectorQueryKind;
  /** The service (RED of the requests it served); absent when `edge` is set. */
  service?: string;
  /** One operation (span name) of `service`. */
  operation?: string;
  /** The calls from `source` to `target`, as the caller saw them. */
  edge?: { source: string; target: string };
  /** How far back from the probe's time; Go-style duration, default `1m`. */
  window: string;
  /** The value must be strictly below this. */
  below?: number;
  /** The value must be strictly above this. */
  above?: number;
}

/** A command run in a running container of a service. */
export interface CommandProbeSpec {
  kind: 'command';
  name: string;
  service: string;
  /** 1-based; default 1. */
  replica: number;
  run: string[];
  expect: { exitCode: number; stdoutContains?: string };
  /** Default `30s`. */
  timeout: string;
}

/** How long an action lasts: a duration, a number of load requests sent after it started, or until the experiment ends. */
export type ActionLength = { duration: string } | { requests: number } | { until: 'end' };

/** A fault through the mesh proxy named after `service` (Toxiproxy's toxic JSON). */
export interface FaultActionSpec {
  kind: 'fault';
  service: string;
  toxic: ToxicSpec;
  /** Offset from the start of the method; default `0s`. */
  at: string;
  length: ActionLength;
}

/** A toxic as the mesh's Toxiproxy-compatible API takes it. */
export interface ToxicSpec {
  /** Default `chaos-<experiment>-<index>`: unique, so cleanup never removes someone else's toxic. */
  name: string;
  type: string;
  stream: 'upstream' | 'downstream';
  /** Probability from 0 to 1; default 1. */
  toxicity: number;
  attributes: Record<string, string | number | boolean>;
}

/** What can be done to a service's containers. */
export type ContainerActionKind = 'kill' | 'pause' | 'unpause' | 'restart' | 'stop' | 'start';

/** A container action on every replica of a service, or one. */
export interface ContainerActionSpec {
  kind: 'container';
  service: string;
  /** 1-based; absent: every replica. */
  replica?: number;
  action: ContainerActionKind;
  /** For `kill`; default SIGKILL. */
  signal?: string;
  at: string;
  /** For `pause` (then unpaused); other actions are done once and last what they last. */
  length: ActionLength;
}

/** Cuts a service's containers off every network they are on, then reconnects them with the same aliases. */
export interface NetworkActionSpec {
  kind: 'network';
  service: string;
  replica?: number;
  at: string;
  length: ActionLength;
}

/** One step of a method. */
export type ActionSpec = FaultActionSpec | ContainerActionSpec | NetworkActionSpec;

/** One rollback: a container action, or a command run in a service's container. */
export type RollbackSpec =
  | { kind: 'container'; service: string; replica?: number; action: ContainerActionKind; signal?: string }
  | { kind: 'command'; service: string; replica: number; run: string[]; timeout: string };

/** Requests sent at a steady rate during the method; bounded by `rate × duration` and by time. */
export interface LoadSpec {
  request: HttpRequestSpec;
  /** Requests per second. */
  rate: number;
  duration: string;
  /** Requests in flight at most; default 8. */
  concurrency: number;
}
