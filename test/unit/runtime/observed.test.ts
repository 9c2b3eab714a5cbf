import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import {
  containerFromInspect,
  containerFromListing,
  exitCodeFromStatus,
  healthFromStatus,
} from '../../../src/runtime/docker/observed.js';

const labels = {
  'dev.flotilla.project': 'shop',
  'dev.flotilla.service': 'api',
  'dev.flotilla.replica': '2',
  'dev.flotilla.config-hash': 'abc123',
};

function listing(overrides: Partial<Dockerode.ContainerInfo>): Dockerode.ContainerInfo {
  return {
    Id: 'f'.repeat(64),
    Names: ['/shop-api-2'],
    Image: 'sha256:2222',
    ImageID: 'sha256:2222',
    Command: 'node server.js',
    Created: 0,
    Ports: [],
    Labels: labels,
    State: 'running',
    Status: 'Up 3 seconds',
    HostConfig: { NetworkMode: 'shop_default' },
    NetworkSettings: { Networks: {} },
    Mounts: [],
    ...overrides,
  };
}

describe('health and exit code from the Status text', () => {
  it.each([
    ['Up 5 seconds (healthy)', 'healthy'],
    ['Up 2 minutes (unhealthy)', 'unhealthy'],
    ['Up 1 second (health: starting)', 'starting'],
    ['Up 5 minutes (Paused)', undefined],
    ['Up 3 hours', undefined],
    ['Exited (0) 2 seconds ago', undefined],
    ['', undefined],
  ])('%j → %s', (status, health) => {
    expect(healthFromStatus(status)).toBe(health);
  });

  it.each([
    ['Exited (137) 5 minutes ago', 137],
    ['Exited (0) 1 second ago', 0],
    ['Restarting (1) 2 seconds ago', 1],
    ['Up 3 seconds', 0],
    ['Created', 0],
  ])('%j → exit code %i', (status, code) => {
    expect(exitCodeFromStatus(status)).toBe(code);
  });
});

describe('containerFromListing', () => {
  it('maps identity from labels, state, health and published ports only', () => {
    const container = containerFromListing(
      listing({
        Status: 'Up 10 seconds (healthy)',
        Ports: [
          { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
          { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
          { PrivatePort: 9000, Type: 'tcp' } as Dockerode.Port,
        ],
      }),
    );
    expect(container).toEqual({
      id: 'f'.repeat(64),
      name: 'shop-api-2',
      project: 'shop',
      service: 'api',
      replica: 2,
      configHash: 'abc123',
      imageId: 'sha256:2222',
      state: 'running',
      health: 'healthy',
      exitCode: 0,
      labels,
      ports: [
        { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '::', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      ],
    });
  });

  it('reads an exited container and tolerates missing Flotilla labels', () => {
    const container = containerFromListing(listing({ State: 'exited', Status: 'Exited (3) 1 minute ago', Labels: {} }));
    expect(container).toMatchObject({ state: 'exited', exitCode: 3, project: '', service: '', replica: 0, configHash: '' });
    expect(container).not.toHaveProperty('health');
  });
});

describe('containerFromInspect', () => {
  it('maps state, health and port bindings (exposed-only ports are null)', () => {
    const info = {
      Id: 'e'.repeat(64),
      Name: '/shop-api-1',
      Image: 'sha256:3333',
      State: { Status: 'running', ExitCode: 0, Health: { Status: 'starting', FailingStreak: 0, Log: [] } },
      Config: { Labels: labels },
      NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '49153' }], '9000/tcp': null } },
    } as unknown as Dockerode.ContainerInspectInfo;
    expect(containerFromInspect(info)).toMatchObject({
      name: 'shop-api-1',
      replica: 2,
      state: 'running',
      health: 'starting',
      ports: [{ hostIp: '127.0.0.1', hostPort: 49153, containerPort: 80, protocol: 'tcp' }],
    });
  });
});
