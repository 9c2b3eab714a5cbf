import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/core/errors.js';
import type { ContainerRequest } from '../../../src/runtime/driver.js';
import {
  additionalNetworks,
  containerCreateOptions,
  contentFiles,
  expandPortRange,
} from '../../../src/runtime/docker/container-options.js';
import type { DeploySpec, ServiceSpec } from '../../../src/spec/types.js';
import { service as resolvedService } from '../../support/stack-factory.js';

/** The service most cases map: `api`, image `shop/api:1.0`, every default applied. */
function service(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return resolvedService('api', { image: 'shop/api:1.0', ...overrides });
}

function request(spec: ServiceSpec, overrides: Partial<ContainerRequest> = {}): ContainerRequest {
  return {
    name: 'shop-api-1',
    image: 'sha256:1111',
    service: spec,
    replica: 1,
    labels: { 'dev.flotilla.project': 'shop', 'dev.flotilla.service': 'api' },
    networks: [{ name: 'shop_default', aliases: ['api'] }],
    volumeNames: {},
    files: [],
    ...overrides,
  };
}

describe('containerCreateOptions', () => {
  it('maps a minimal service to a minimal create body', () => {
    expect(containerCreateOptions(request(service()))).toEqual({
      name: 'shop-api-1',
      Image: 'sha256:1111',
      Env: [],
      Labels: { 'dev.flotilla.project': 'shop', 'dev.flotilla.service': 'api' },
      StopTimeout: 10,
      Tty: false,
      OpenStdin: false,
      HostConfig: {
        NetworkMode: 'shop_default',
        RestartPolicy: { Name: 'no' },
        ReadonlyRootfs: false,
        Privileged: false,
      },
      NetworkingConfig: { EndpointsConfig: { shop_default: { Aliases: ['api'] } } },
    });
  });

  it('maps command, entrypoint, environment (sorted) and the process settings', () => {
    const options = containerCreateOptions(
      request(
        service({
          command: ['node', 'server.js', '--port', '80'],
          entrypoint: ['/sbin/tini', '--'],
          environment: { ZED: 'last', ALPHA: 'first', EMPTY: '', WITH_EQUALS: 'a=b' },
          user: '1000:1000',
          workingDir: '/app',
          init: true,
          stopSignal: 'SIGINT',
          stopGracePeriod: '1m30s',
          hostname: 'api-host',
          domainname: 'shop.local',
          tty: true,
          stdinOpen: true,
          readOnly: true,
          privileged: true,
        }),
      ),
    );
    expect(options).toMatchObject({
      Cmd: ['node', 'server.js', '--port', '80'],
      Entrypoint: ['/sbin/tini', '--'],
      Env: ['ALPHA=first', 'EMPTY=', 'WITH_EQUALS=a=b', 'ZED=last'],
      User: '1000:1000',
      WorkingDir: '/app',
      StopSignal: 'SIGINT',
      StopTimeout: 90,
      Hostname: 'api-host',
      Domainname: 'shop.local',
      Tty: true,
      OpenStdin: true,
    });
    expect(options.HostConfig).toMatchObject({ Init: true, ReadonlyRootfs: true, Privileged: true });
  });

  it('keeps an explicitly empty command and entrypoint (they override the image)', () => {
    const options = containerCreateOptions(request(service({ command: [], entrypoint: [] })));
    expect(options.Cmd).toEqual([]);
    expect(options.Entrypoint).toEqual([]);
  });

  it('leaves Cmd, Entrypoint and Init out when the service does not set them', () => {
    const options = containerCreateOptions(request(service()));
    expect(options).not.toHaveProperty('Cmd');
    expect(options).not.toHaveProperty('Entrypoint');
    expect(options.HostConfig).not.toHaveProperty('Init');
  });

  it('rounds a fractional stop grace period up to whole seconds', () => {
    expect(containerCreateOptions(request(service({ stopGracePeriod: '1500ms' }))).StopTimeout).toBe(2);
    expect(containerCreateOptions(request(service({ stopGracePeriod: '0s' }))).StopTimeout).toBe(0);
  });

  it('lets the request labels win over the service labels', () => {
    const options = containerCreateOptions(
      request(service({ labels: { team: 'checkout', 'dev.flotilla.project': 'spoofed' } })),
    );
    expect(options.Labels).toEqual({ team: 'checkout', 'dev.flotilla.project': 'shop', 'dev.flotilla.service': 'api' });
  });

  describe('ports', () => {
    it('binds published ports with host IP and protocol, ephemeral when unpublished', () => {
      const options = containerCreateOptions(
        request(
          service({
            ports: [
              { target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' },
              { target: 80, published: '8081', hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' },
              { target: 53, published: '5353', protocol: 'udp', mode: 'host' },
              { target: 9000, protocol: 'tcp', mode: 'ingress' },
              { target: 3000, published: '3000-3005', protocol: 'tcp', mode: 'ingress' },
              { target: 132, published: '1320', protocol: 'sctp', mode: 'ingress' },
            ],
          }),
        ),
      );
      expect(options.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '3000/tcp': {}, '132/sctp': {} });
      expect(options.HostConfig?.PortBindings).toEqual({
        '80/tcp': [
          { HostIp: '', HostPort: '8080' },
          { HostIp: '127.0.0.1', HostPort: '8081' },
        ],
        '53/udp': [{ HostIp: '', HostPort: '5353' }],
        '9000/tcp': [{ HostIp: '', HostPort: '' }],
        '3000/tcp': [{ HostIp: '', HostPort: '3000-3005' }],
        '132/sctp': [{ HostIp: '', HostPort: '1320' }],
      });
    });

    it('exposes `expose` entries, expanding ranges, without binding them', () => {
      const options = containerCreateOptions(request(service({ expose: ['3000', '4000-4002', '5000/udp'] })));
      expect(options.ExposedPorts).toEqual({
        '3000/tcp': {},
        '4000/tcp': {},
        '4001/tcp': {},
        '4002/tcp': {},
        '5000/udp': {},
      });
      expect(options.HostConfig).not.toHaveProperty('PortBindings');
    });

    it('expandPortRange rejects what is not a port', () => {
      expect(expandPortRange('7-9/udp')).toEqual(['7/udp', '8/udp', '9/udp']);
      expect(() => expandPortRange('http')).toThrow(InternalError);
      expect(() => expandPortRange('9-7')).toThrow(InternalError);
    });
  });

  describe('mounts', () => {
    it('maps named, anonymous, bind and tmpfs mounts in order', () => {
      const options = containerCreateOptions(
        request(
          service({
            volumes: [
              { type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data', readOnly: false, nocopy: false },
              { type: 'volume', target: '/cache', readOnly: false, nocopy: true },
              { type: 'volume', source: 'assets', target: '/assets', readOnly: true, nocopy: false },
              { type: 'bind', source: '/src/app', target: '/app', readOnly: false, createHostPath: true },
              { type: 'bind', source: '/etc/shop.conf', target: '/etc/shop.conf', readOnly: true, createHostPath: true },
              { type: 'bind', source: '/must/exist', target: '/data', readOnly: true, createHostPath: false },
              { type: 'tmpfs', target: '/tmp', size: 64 * 1024 * 1024, mode: 0o1777 },
              { type: 'tmpfs', target: '/run/scratch' },
            ],
          }),
          { volumeNames: { pgdata: 'shop_pgdata', assets: 'shared-assets' } },
        ),
      );
      expect(options.HostConfig?.Mounts).toEqual([
        { Type: 'volume', Source: 'shop_pgdata', Target: '/var/lib/postgresql/data', ReadOnly: false },
        { Type: 'volume', Source: '', Target: '/cache', ReadOnly: false, VolumeOptions: { NoCopy: true } },
        { Type: 'volume', Source: 'shared-assets', Target: '/assets', ReadOnly: true },
        { Type: 'bind', Source: '/must/exist', Target: '/data', ReadOnly: true },
        { Type: 'tmpfs', Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: 67108864, Mode: 0o1777 } },
        { Type: 'tmpfs', Source: '', Target: '/run/scratch' },
      ]);
      // Binds (not Mounts) create a missing host path, as create_host_path asks.
      expect(options.HostConfig?.Binds).toEqual(['/src/app:/app', '/etc/shop.conf:/etc/shop.conf:ro']);
    });

    it('refuses a named volume the request has no engine name for', () => {
      const spec = service({ volumes: [{ type: 'volume', source: 'pgdata', target: '/data', readOnly: false, nocopy: false }] });
      expect(() => containerCreateOptions(request(spec))).toThrow(/pgdata/);
    });

    it('bind-mounts file secrets read-only and leaves content files out of the body', () => {
      const secret = Buffer.from('s3cr3t');
      const req = request(service(), {
        files: [
          { target: '/run/secrets/db_password', hostPath: '/home/me/shop/db_password.txt' },
          { target: '/run/secrets/api_key', content: secret, mode: 0o400, uid: 1000, gid: 1000 },
        ],
      });
      const options = containerCreateOptions(req);
      expect(options.HostConfig?.Mounts).toEqual([
        { Type: 'bind', Source: '/home/me/shop/db_password.txt', Target: '/run/secrets/db_password', ReadOnly: true },
      ]);
      expect(JSON.stringify(options)).not.toContain('s3cr3t');
      expect(contentFiles(req)).toEqual([{ target: '/run/secrets/api_key', content: secret, mode: 0o400, uid: 1000, gid: 1000 }]);
    });
  });

  describe('networks', () => {
    const networks: ContainerRequest['networks'] = [
      { name: 'shop_front', aliases: ['api', 'shop-api'], ipv4Address: '172.30.0.10' },
      { name: 'shop_back', aliases: ['api'], ipv6Address: 'fd00::10' },
      { name: 'shared', aliases: ['api'] },
    ];

    it('puts the first network in the create body and the others in additionalNetworks', () => {
      const req = request(service(), { networks });
      const options = containerCreateOptions(req);
      expect(options.HostConfig?.NetworkMode).toBe('shop_front');
      expect(options.NetworkingConfig).toEqual({
        EndpointsConfig: { shop_front: { Aliases: ['api', 'shop-api'], IPAMConfig: { IPv4Address: '172.30.0.10' } } },
      });
      expect(additionalNetworks(req)).toEqual([
        { network: 'shop_back', endpoint: { Aliases: ['api'], IPAMConfig: { IPv6Address: 'fd00::10' } } },
        { network: 'shared', endpoint: { Aliases: ['api'] } },
      ]);
    });

    it.each(['host', 'none', 'bridge', 'container:0123abcd'])('passes network_mode %s through without endpoints', (mode) => {
      const req = request(service({ networkMode: mode, networks: {} }), { networks: [] });
      const options = containerCreateOptions(req);
      expect(options.HostConfig?.NetworkMode).toBe(mode);
      expect(options).not.toHaveProperty('NetworkingConfig');
      expect(additionalNetworks(req)).toEqual([]);
    });

    it('resolves network_mode service:<name> to the container the request names', () => {
      const spec = service({ networkMode: 'service:vpn', networks: {} });
      const options = containerCreateOptions(request(spec, { networks: [], networkModeContainer: 'f00dfeed' }));
      expect(options.HostConfig?.NetworkMode).toBe('container:f00dfeed');
      expect(() => containerCreateOptions(request(spec, { networks: [] }))).toThrow(/service:vpn/);
    });

    it('leaves the network mode to the Engine when there is no network at all', () => {
      const options = containerCreateOptions(request(service({ networks: {} }), { networks: [] }));
      expect(options.HostConfig).not.toHaveProperty('NetworkMode');
      expect(options).not.toHaveProperty('NetworkingConfig');
    });
  });

  describe('healthcheck', () => {
    it('converts durations to nanoseconds', () => {
      const options = containerCreateOptions(
        request(
          service({
            healthcheck: {
              disable: false,
              test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
              interval: '1m30s',
              timeout: '500ms',
              retries: 3,
              startPeriod: '0s',
              startInterval: '5s',
            },
          }),
        ),
      );
      expect(options.Healthcheck).toEqual({
        Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
        Interval: 90_000_000_000,
        Timeout: 500_000_000,
        Retries: 3,
        StartPeriod: 0,
        StartInterval: 5_000_000_000,
      });
    });

    it('turns `disable: true` into test NONE, and leaves an undeclared check to the image', () => {
      expect(containerCreateOptions(request(service({ healthcheck: { disable: true } }))).Healthcheck).toEqual({ Test: ['NONE'] });
      expect(containerCreateOptions(request(service()))).not.toHaveProperty('Healthcheck');
    });
  });

  describe('restart policy', () => {
    it.each([
      ['no', { Name: 'no' }],
      ['always', { Name: 'always' }],
      ['unless-stopped', { Name: 'unless-stopped' }],
      ['on-failure', { Name: 'on-failure' }],
      ['on-failure:5', { Name: 'on-failure', MaximumRetryCount: 5 }],
    ] as const)('maps restart: %s', (restart, expected) => {
      expect(containerCreateOptions(request(service({ restart }))).HostConfig?.RestartPolicy).toEqual(expected);
    });

    it('uses deploy.restart_policy when restart is left at its default', () => {
      const deploy = (condition: 'none' | 'on-failure' | 'any', maxAttempts?: number): DeploySpec => ({
        mode: 'replicated',
        resources: {},
        labels: {},
        restartPolicy: { condition, ...(maxAttempts !== undefined && { maxAttempts }) },
      });
      const policy = (spec: ServiceSpec) => containerCreateOptions(request(spec)).HostConfig?.RestartPolicy;
      expect(policy(service({ deploy: deploy('any') }))).toEqual({ Name: 'always' });
      expect(policy(service({ deploy: deploy('none') }))).toEqual({ Name: 'no' });
      expect(policy(service({ deploy: deploy('on-failure', 3) }))).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
      expect(policy(service({ restart: 'unless-stopped', deploy: deploy('any') }))).toEqual({ Name: 'unless-stopped' });
    });
  });

  it('maps deploy resource limits and the memory reservation', () => {
    const options = containerCreateOptions(
      request(
        service({
          deploy: {
            mode: 'replicated',
            labels: {},
            resources: {
              limits: { cpus: 0.5, memory: 256 * 1024 * 1024, pids: 100 },
              reservations: { cpus: 0.25, memory: 64 * 1024 * 1024 },
            },
          },
        }),
      ),
    );
    expect(options.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 268_435_456,
      PidsLimit: 100,
      MemoryReservation: 67_108_864,
    });
    expect(options.HostConfig).not.toHaveProperty('CpuShares');
  });

  it('maps extra hosts, capabilities, ulimits (sorted) and logging', () => {
    const options = containerCreateOptions(
      request(
        service({
          extraHosts: [
            { host: 'db.internal', ip: '10.0.0.5' },
            { host: 'v6.internal', ip: '::1' },
          ],
          capAdd: ['NET_ADMIN'],
          capDrop: ['ALL'],
          ulimits: { nproc: { soft: 65535, hard: 65535 }, nofile: { soft: 20000, hard: 40000 } },
          logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
        }),
      ),
    );
    expect(options.HostConfig).toMatchObject({
      ExtraHosts: ['db.internal:10.0.0.5', 'v6.internal:::1'],
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['ALL'],
      Ulimits: [
        { Name: 'nofile', Soft: 20000, Hard: 40000 },
        { Name: 'nproc', Soft: 65535, Hard: 65535 },
      ],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
    });
  });

  it('leaves the log driver to the daemon when only options are given', () => {
    const options = containerCreateOptions(request(service({ logging: { options: { tag: 'api' } } })));
    expect(options.HostConfig?.LogConfig).toEqual({ Type: '', Config: { tag: 'api' } });
  });

  it('is pure: the same request gives the same body and the request is not modified', () => {
    const spec = service({ command: ['a'], capAdd: ['NET_ADMIN'], environment: { B: '1', A: '2' } });
    const req = request(spec, { networks: [{ name: 'n', aliases: ['x'] }] });
    const snapshot = structuredClone(req);
    const first = containerCreateOptions(req);
    first.Cmd?.push('mutated');
    (first.HostConfig?.CapAdd as string[]).push('SYS_ADMIN');
    expect(containerCreateOptions(req)).toEqual(containerCreateOptions(snapshot));
    expect(req).toEqual(snapshot);
  });
});
